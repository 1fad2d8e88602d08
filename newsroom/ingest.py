"""The one way in: whatever source an admin gives (Markdown, saved page, address) to a draft."""

import asyncio
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from newsroom.article import ArticleDraft
from newsroom.errors import IngestError
from newsroom.feeds import FeedItem
from newsroom.frontmatter import parse_markdown_article
from newsroom.summary import DEFAULT_KEY_POINTS, summarised
from newsroom.urls import is_web_url
from newsroom.web_client import WebClient
from newsroom.webpage import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, load_page

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


async def ingest(
    source: str,
    *,
    client: WebClient | None = None,
    summary_sentences: int = DEFAULT_KEY_POINTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    sites: Collection[str] | None = None,
) -> ArticleDraft:
    """The article at `source`, with key points and reading time filled.

    `source` is an http(s) address, a .md file with front matter or a saved .html page; at
    most `max_bytes` are read, and a download gets `timeout` seconds in all. With `sites`,
    only an address on those sites is read, and every redirect must stay on them.
    Raises IngestError, naming the source, when it cannot become an article.
    """
    if summary_sentences < 1:
        raise ValueError(f"summary_sentences must be at least 1, got {summary_sentences}")
    location = source.strip()
    if is_web_url(location):
        draft = await load_page(
            location, client=client, max_bytes=max_bytes, timeout=timeout, sites=sites
        )
    elif sites is not None:
        raise IngestError(f"{location or '(empty)'}: not an http(s) address")
    else:
        suffix = Path(location).suffix.lower()
        if suffix in MARKDOWN_SUFFIXES:
            text = await asyncio.to_thread(_read_markdown, location, max_bytes)
            draft = parse_markdown_article(text, source=location)
        elif suffix in HTML_SUFFIXES:
            draft = await load_page(location, max_bytes=max_bytes)
        else:
            raise IngestError(
                f"{location or '(empty)'}: not an article source; give an http(s) address, "
                "a .md file or a saved .html page"
            )
    return summarised(draft, count=summary_sentences)


async def ingest_feed_item(
    item: FeedItem,
    *,
    client: WebClient | None = None,
    summary_sentences: int = DEFAULT_KEY_POINTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> ArticleDraft:
    """The article a feed item links to, remembering the item's key, if needed its date, and
    the feed's categories among its topics."""
    draft = await ingest(
        item.url,
        client=client,
        summary_sentences=summary_sentences,
        max_bytes=max_bytes,
        timeout=timeout,
    )
    return replace(
        draft,
        source_guid=item.key,
        published_at=draft.published_at or item.published_at,
        topics=draft.topics + item.categories,
    )


def _read_markdown(source: str, max_bytes: int) -> str:
    path = Path(source).expanduser()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(
                f"{source}: the file is {size:,} bytes, over the {max_bytes:,} limit"
            )
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise IngestError(f"{source}: no such file") from None
    except UnicodeDecodeError:
        raise IngestError(f"{source}: not UTF-8 text") from None
    except IsADirectoryError:
        raise IngestError(f"{source}: is a folder, not a file") from None
    except OSError as error:
        raise IngestError(f"{source}: could not be read ({error.strerror})") from None
