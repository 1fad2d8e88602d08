"""Hostile and malformed input to ingestion: entity bombs, external entities, 10 MB feeds, and
fuzzed bytes. Each either becomes a draft or raises IngestError; nothing else escapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsroom.errors import IngestError
from newsroom.feeds import fetch_feed, parse_feed
from newsroom.frontmatter import parse_markdown_article
from newsroom.web_client import WebClient
from newsroom.webpage import extract_article

T = TypeVar("T")
FEED_URL = "https://news.example/feed.xml"
TEN_MB = 10 * 1024 * 1024
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(parse: Callable[[], T]) -> T | IngestError:
    """What parsing gives: its value, or the IngestError it raised (anything else escapes)."""
    try:
        return parse()
    except IngestError as error:
        return error


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        + "\n".join(entities)
        + '\n]>\n<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><title>&lol9;</title><link>https://news.example/a</link></item>"
        "</channel></rss>"
    ).encode()


def test_entity_bomb_is_not_expanded() -> None:
    """A billion-laughs feed parses without expanding its entities."""
    items = parse_feed(_billion_laughs(), url=FEED_URL)
    assert [item.url for item in items] == ["https://news.example/a"]
    assert all(len(item.title) < 100 for item in items)


def test_external_entity_is_not_read() -> None:
    """An entity naming a local file is never resolved into the item's title."""
    feed = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/hostname">]>'
        b'<rss version="2.0"><channel><item><title>x&secret;y</title>'
        b"<link>https://news.example/b</link></item></channel></rss>"
    )
    (item,) = parse_feed(feed, url=FEED_URL)
    assert item.title in {"xy", "x&secret;y", "x"}


@pytest.fixture(name="huge_feed_url")
async def huge_feed_url_fixture() -> AsyncIterator[str]:
    """A local server answering a 10 MB RSS document, streamed."""

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * 65_536 + b" -->"
        try:
            await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            for _ in range(TEN_MB // len(chunk) + 1):
                await response.write(chunk)
        except ConnectionResetError:
            pass  # the client hung up at its size cap
        return response

    app = web.Application()
    app.router.add_get("/feed.xml", huge)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/feed.xml"))


async def test_ten_megabyte_feed_is_refused_at_the_cap(huge_feed_url: str) -> None:
    """A feed over the size cap is refused with a message naming the limit."""
    # The test server is on 127.0.0.1, which only an intranet-allowing client may reach.
    async with WebClient(allow_private=True) as client:
        with pytest.raises(IngestError, match="limit"):
            await fetch_feed(client, huge_feed_url, max_bytes=1_000_000)


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzzed_feed_bytes_never_escape(content: bytes) -> None:
    """Arbitrary bytes as a feed give items or IngestError, never another exception."""
    outcome = _outcome(lambda: parse_feed(content, url=FEED_URL))
    if isinstance(outcome, IngestError):
        assert FEED_URL in str(outcome)
    else:
        assert all(item.url.startswith(("http://", "https://")) for item in outcome)


_yaml_junk = st.sampled_from(
    ["title: [", "title: {a: b}", "poll: 7", "related: x", "date: 99-99-99", "&a [*a, *a]", "\t"]
)


@FUZZ
@given(st.lists(_yaml_junk | st.text(max_size=40), max_size=6), st.text(max_size=300))
def test_fuzzed_markdown_never_escapes(front: list[str], body: str) -> None:
    """Malformed front matter and odd bodies give a draft or IngestError naming the file."""
    text = "---\n" + "\n".join(front) + "\n---\n" + body
    outcome = _outcome(lambda: parse_markdown_article(text, source="fuzz.md"))
    if isinstance(outcome, IngestError):
        assert "fuzz.md" in str(outcome)
    else:
        assert outcome.title.strip()


_tags = st.sampled_from(
    ["<html>", "<head>", "<title>", "</title>", "<script>", "</script>", "<p>", "<h1>", "&amp",
     "&#xD800;", "<meta property='og:title' content='", "'>", "<!--", "<![CDATA[", "\x00", "</"]
)  # fmt: skip


@FUZZ
@given(st.lists(_tags | st.text(max_size=30), max_size=30))
def test_fuzzed_pages_never_escape(parts: list[str]) -> None:
    """Broken HTML (unclosed tags, bad entities, NULs) gives a one-line title or IngestError."""
    outcome = _outcome(lambda: extract_article("".join(parts), url="https://news.example/page"))
    if not isinstance(outcome, IngestError):
        # Plain text (the card escapes it), one line, without NULs.
        assert outcome.title.strip()
        assert "\x00" not in outcome.title
        assert "\n" not in outcome.title
