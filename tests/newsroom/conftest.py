"""Shared fixtures for the article domain: fixture files and a real HTTP site on 127.0.0.1."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from newsroom_site import CHUNK, FEED_ETAG, FEED_MODIFIED, HUGE_BYTES, LocalSite

from newsroom.web_client import WebClient

FIXTURES = Path(__file__).parent / "fixtures"
SEED_CANONICAL = "https://tidewater-ledger.example/environment/kestrel-coast-seagrass-replanting"


@pytest.fixture(name="fixtures_dir")
def fixture_fixtures_dir() -> Path:
    """The folder holding the HTML, feed and Markdown fixtures."""
    return FIXTURES


@pytest.fixture(name="http")
async def fixture_http() -> AsyncIterator[WebClient]:
    """The fetching client, allowed onto private addresses: the test site is on 127.0.0.1."""
    async with WebClient(allow_private=True) as client:
        yield client


@pytest.fixture(name="site")
async def fixture_site() -> AsyncIterator[LocalSite]:
    """A real HTTP server on 127.0.0.1 serving pages, feeds and misbehaving answers."""
    release = asyncio.Event()
    state = LocalSite(base="")
    page = (FIXTURES / "seed_shaped.html").read_bytes()
    feed = (FIXTURES / "rss2.xml").read_bytes()

    async def article(_: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    async def own_canonical(_: web.Request) -> web.Response:
        # The seed page as its own site would serve it: the canonical names this very host.
        here = page.replace(SEED_CANONICAL.encode(), f"{state.base}/seagrass".encode())
        return web.Response(body=here, content_type="text/html", charset="utf-8")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def pdf(_: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.7\n", content_type="application/pdf")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            while state.huge_bytes_sent[0] < HUGE_BYTES:
                await response.write(CHUNK)
                state.huge_bytes_sent[0] += len(CHUNK)
        except ConnectionResetError:
            pass  # the client hung up, which is what the size cap should do
        return response

    async def declared_huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.content_length = HUGE_BYTES
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            await response.write(CHUNK)
        return response

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def hop(request: web.Request) -> web.Response:
        remaining = int(request.match_info["remaining"])
        if remaining == 0:
            return await article(request)
        raise web.HTTPFound(f"/hop/{remaining - 1}")

    async def to_ftp(_: web.Request) -> web.Response:
        raise web.HTTPFound("ftp://files.example/article.html")

    async def slow(_: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), timeout=5)
        return web.Response(body=page, content_type="text/html")

    async def rss(request: web.Request) -> web.Response:
        state.feed_requests.append(dict(request.headers))
        validators = {"ETag": FEED_ETAG, "Last-Modified": FEED_MODIFIED}
        if (
            request.headers.get("If-None-Match") == FEED_ETAG
            or request.headers.get("If-Modified-Since") == FEED_MODIFIED
        ):
            return web.Response(status=304, headers=validators)
        return web.Response(body=feed, content_type="application/rss+xml", headers=validators)

    async def feed_as_html(_: web.Request) -> web.Response:
        return web.Response(body=b"<html><body>Not a feed</body></html>", content_type="text/html")

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        state.requests.append((request.path, dict(request.headers)))
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.router.add_get("/article", article)
    app.router.add_get("/own-canonical", own_canonical)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/report.pdf", pdf)
    app.router.add_get("/huge", huge)
    app.router.add_get("/declared-huge", declared_huge)
    app.router.add_get("/loop", loop)
    app.router.add_get("/hop/{remaining}", hop)
    app.router.add_get("/to-ftp", to_ftp)
    app.router.add_get("/slow", slow)
    app.router.add_get("/feed.xml", rss)
    app.router.add_get("/feed.html", feed_as_html)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.base = str(server.make_url("")).rstrip("/")
    try:
        yield state
    finally:
        release.set()
        await server.close()
