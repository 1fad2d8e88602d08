"""RSS and Atom feeds: their items, fetched conditionally with ETag / Last-Modified.

The polling job and the record of items already seen live elsewhere; this module gives them
`fetch_feed` and each item's dedupe `key` (the guid, else the canonical article address).
"""

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from time import struct_time
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from newsroom.errors import IngestError
from newsroom.fetch import download
from newsroom.plaintext import one_line
from newsroom.urls import canonical_url, is_web_url, resolve_url
from newsroom.web_client import WebClient

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/x-rss+xml",
    }
)
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed: enough to decide whether it is new and where its article lives."""

    guid: str | None
    url: str
    title: str
    published_at: datetime | None
    # The item's <category> (RSS) or category term (Atom) names, as the feed wrote them.
    categories: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What identifies the item across fetches: its guid, else its canonical address."""
        return self.guid or self.url


@dataclass(frozen=True, slots=True)
class FeedFetch:
    """One conditional fetch: the items (none when not modified) and the validators to keep."""

    items: tuple[FeedItem, ...]
    etag: str | None
    modified: str | None
    not_modified: bool


async def fetch_feed(
    client: WebClient,
    url: str,
    etag: str | None = None,
    modified: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> FeedFetch:
    """Fetch the feed, sending the validators from the last fetch; 304 means nothing new."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    answer = await download(
        client,
        url,
        accept=FEED_TYPES,
        what="an RSS or Atom feed",
        max_bytes=max_bytes,
        timeout=timeout,
        headers=headers,
    )
    new_etag = answer.headers.get("etag")
    new_modified = answer.headers.get("last-modified")
    if answer.not_modified:
        return FeedFetch((), new_etag or etag, new_modified or modified, not_modified=True)
    items = parse_feed(
        answer.content, url=answer.url, content_type=answer.headers.get("content-type")
    )
    return FeedFetch(items, new_etag, new_modified, not_modified=False)


def parse_feed(
    content: bytes, *, url: str, content_type: str | None = None
) -> tuple[FeedItem, ...]:
    """The feed's items in feed order, each once; items without a web link are left out.

    Raises IngestError when the document is not a feed at all.
    """
    # No content-location: feedparser would resolve bare guids against it as if they were links.
    headers: dict[str, str] = {}
    if content_type:
        headers["content-type"] = content_type
    # Imported here, not at the top: feedparser costs about 0.1 s of start-up; only feeds use it.
    import feedparser  # noqa: PLC0415

    # A stream, never a string: feedparser would treat a string as an address and fetch it.
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS or Atom structure"
        raise IngestError(f"{url}: not a readable RSS or Atom feed ({reason})")
    items: dict[str, FeedItem] = {}
    for entry in parsed.entries:
        item = _item(entry, base=url)
        if item is not None:
            items.setdefault(item.key, item)
    return tuple(items.values())


def _item(entry: Any, *, base: str) -> FeedItem | None:
    link = resolve_url(str(entry.get("link") or ""), base=base)
    guid = one_line(str(entry.get("id") or "")) or None
    if link is None and guid is not None and is_web_url(guid):
        link = canonical_url(guid)  # RSS guids are often the permalink itself
    if link is None:
        return None
    return FeedItem(
        guid=guid,
        url=link,
        title=plain_title(str(entry.get("title") or "")),
        published_at=_moment(entry.get("published_parsed") or entry.get("updated_parsed")),
        categories=_categories(entry.get("tags")),
    )


def _categories(tags: Any) -> tuple[str, ...]:
    if not isinstance(tags, list):
        return ()
    terms = (tag.get("term") for tag in tags if isinstance(tag, dict))
    return tuple(term for term in terms if isinstance(term, str) and one_line(term))


def plain_title(text: str) -> str:
    """A feed title as plain text: markup and anything inside script or style removed."""
    if "<" not in text:
        return one_line(text)
    tree = LexborHTMLParser(f"<div>{text}</div>")
    for node in tree.css("script, style, noscript, template, iframe"):
        node.decompose()
    body = tree.body
    return one_line(body.text(deep=True) if body is not None else "")


def _moment(parsed: Any) -> datetime | None:
    if not isinstance(parsed, struct_time):
        return None
    # feedparser hands every date over as a UTC struct_time.
    return datetime(*parsed[:6], tzinfo=UTC)
