"""Web pages as articles: fetch one by address or read a saved copy, then extract the article.

Metadata comes from page_metadata, the body from page_body, and the "Did you know?" fact, the
reader poll and related links from page_fact, page_poll and page_related, which take their parts
out of the tree before the body is read.
"""

import asyncio
import re
from collections.abc import Collection
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from newsroom.article import ArticleDraft
from newsroom.errors import IngestError
from newsroom.fetch import decode_text, download
from newsroom.page_body import article_paragraphs
from newsroom.page_fact import take_fact
from newsroom.page_metadata import PageMetadata, read_metadata
from newsroom.page_poll import take_poll
from newsroom.page_related import take_related
from newsroom.plaintext import join_paragraphs
from newsroom.summary import summarised
from newsroom.urls import canonical_url, is_web_url
from newsroom.web_client import WebClient

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_TIMEOUT = 10.0
_LOOKS_LIKE_HTML = re.compile(
    r"<(?:!doctype\s+html|html|head|body|article|main|div|p|h1|title)[\s>/]", re.IGNORECASE
)
_READING_TIME = re.compile(
    r"^(?:reading time:?\s*)?\d+\s*(?:-\s*\d+\s*)?min(?:ute)?s?(?:\s+read)?$", re.IGNORECASE
)
# A page whose own text is this much shorter than its JSON-LD articleBody is a script shell.
_THIN_BODY_SHARE = 0.5


def extract_article(html: str, *, url: str) -> ArticleDraft:
    """The article a page holds; `url` is where the page was read (it resolves relative links).

    The draft's address is the page's canonical link, else og:url, else `url`; a canonical
    link or og:url on another host than `url` (a leading "www." aside) is passed over.
    Raises IngestError (starting with `url`) when the page is not HTML or has no title or text.
    """
    try:
        return _extract(html, url)
    except IngestError as error:
        raise IngestError(f"{url}: {error}") from None


async def fetch_page(
    client: WebClient,
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """The HTML at `url`: at most 5 redirects, `timeout` seconds in all, `max_bytes` at most."""
    return (await _fetch(client, url, max_bytes=max_bytes, timeout=timeout))[1]


async def load_page(
    source: str,
    *,
    client: WebClient | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    sites: Collection[str] | None = None,
) -> ArticleDraft:
    """The article from an http(s) address or a saved HTML file (which must name its address).

    Without a client, one that reaches public addresses only is used. With `sites`, the
    address and every redirect must stay on those sites.
    """
    if is_web_url(source):
        if client is not None:
            final_url, html = await _fetch(
                client, source, max_bytes=max_bytes, timeout=timeout, sites=sites
            )
        else:
            async with WebClient() as own_client:
                final_url, html = await _fetch(
                    own_client, source, max_bytes=max_bytes, timeout=timeout, sites=sites
                )
        return extract_article(html, url=final_url)
    location, html = await asyncio.to_thread(_read_file, source, max_bytes)
    try:
        return _extract(html, location)
    except IngestError as error:
        raise IngestError(f"{source}: {error}") from None


async def _fetch(
    client: WebClient,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    sites: Collection[str] | None = None,
) -> tuple[str, str]:
    answer = await download(
        client,
        url,
        accept=HTML_TYPES,
        what="a web page",
        max_bytes=max_bytes,
        timeout=timeout,
        headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"},
        sites=sites,
    )
    return answer.url, decode_text(answer.content, answer.charset)


def _read_file(source: str, max_bytes: int) -> tuple[str, str]:
    """The file's address (a file: URI) and its text."""
    path = Path(source).expanduser()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(
                f"{source}: the file is {size:,} bytes, over the {max_bytes:,} limit"
            )
        return path.resolve().as_uri(), decode_text(path.read_bytes(), None)
    except FileNotFoundError:
        raise IngestError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise IngestError(f"{source}: is a folder, not a file") from None
    except OSError as error:
        raise IngestError(f"{source}: could not be read ({error.strerror})") from None


def _extract(html: str, url: str) -> ArticleDraft:
    if not _LOOKS_LIKE_HTML.search(html[:100_000]):
        raise IngestError("not an HTML page")
    tree = LexborHTMLParser(html)
    base = url if is_web_url(url) else None
    meta = read_metadata(tree, base=base or "")
    address = meta.canonical_url or (canonical_url(url) if base else None)
    if address is None:
        raise IngestError(
            "the page names no address of its own (link rel=canonical or og:url), "
            "which a saved page needs"
        )
    for junk in tree.css("script, style, noscript, template"):
        junk.decompose()
    fact = take_fact(tree)
    poll = take_poll(tree)
    related = take_related(tree, base=base or address, own_url=address)
    if not meta.title:
        raise IngestError("the page has no title (no headline, og:title, h1 or <title>)")
    paragraphs = _body_paragraphs(article_paragraphs(tree), meta)
    if not paragraphs:
        raise IngestError("no article text found on the page")
    draft = ArticleDraft(
        title=meta.title,
        url=address,
        standfirst=meta.standfirst or _first_sentence_paragraph(paragraphs),
        author=meta.author,
        published_at=meta.published_at,
        image_url=meta.image_url,
        body=join_paragraphs(paragraphs),
        fact=fact,
        topics=meta.topics,
        related=tuple(related),
        poll=poll,
    )
    return summarised(draft)


def _body_paragraphs(paragraphs: list[str], meta: PageMetadata) -> list[str]:
    # The card shows title, standfirst and byline itself; repeated in the body they are noise.
    repeated = {
        text.casefold()
        for text in (meta.title, meta.standfirst, meta.author, f"By {meta.author}")
        if text
    }
    kept = [
        paragraph
        for paragraph in paragraphs
        if paragraph.casefold() not in repeated and not _READING_TIME.match(paragraph)
    ]
    if meta.article_body and len(" ".join(kept)) < _THIN_BODY_SHARE * len(meta.article_body):
        return meta.article_body.split("\n\n")
    return kept


def _first_sentence_paragraph(paragraphs: list[str]) -> str | None:
    # Headings have no closing punctuation; the standfirst is the first real paragraph.
    return next((p for p in paragraphs if p.rstrip("\"'\u201d\u2019)")[-1:] in ".!?"), None)
