"""Compressed answers over real HTTP on 127.0.0.1: gzip and deflate pages are read, the size cap
counts unpacked bytes (a gzip bomb is stopped without being unpacked), and codings the fetcher
did not offer are refused."""

import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from newsroom.errors import IngestError
from newsroom.web_client import WebClient
from newsroom.webpage import fetch_page

SEED_PAGE = (Path(__file__).parent / "fixtures" / "seed_shaped.html").read_bytes()
HEADLINE = "<h1>Kestrel Coast Towns Join Forces to Replant Seagrass Meadows</h1>"
BOMB_UNPACKED = 64 * 1024 * 1024


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return packer.compress(data) + packer.flush()


def _gzip_bomb() -> bytes:
    """64 MB of an HTML page's worth of nothing, packed into about 64 KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [packer.compress(b"<html><body><p>")]
    megabyte = b"\0" * (1024 * 1024)
    parts += [packer.compress(megabyte) for _ in range(BOMB_UNPACKED // len(megabyte))]
    return b"".join([*parts, packer.flush()])


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.fixture(name="packed_site")
async def fixture_packed_site() -> AsyncIterator[tuple[str, list[str]]]:
    """A server sending the seed page in each coding, and a gzip bomb; with the
    Accept-Encoding of every request it answered."""
    bodies = {
        "/gzip": ("gzip", _gzip(SEED_PAGE)),
        "/deflate": ("deflate", zlib.compress(SEED_PAGE)),
        "/raw-deflate": ("deflate", _raw_deflate(SEED_PAGE)),
        "/brotli": ("br", b"\x1b\x03\x00\xf8\xa5"),
        "/twice": ("gzip, gzip", _gzip(_gzip(SEED_PAGE))),
        "/broken-gzip": ("gzip", b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10),
        "/bomb": ("gzip", _gzip_bomb()),
    }
    asked: list[str] = []

    async def packed(request: web.Request) -> web.Response:
        asked.append(request.headers.get("Accept-Encoding", ""))
        coding, body = bodies[request.path]
        return web.Response(
            body=body, headers={"Content-Type": "text/html", "Content-Encoding": coding}
        )

    app = web.Application()
    for path in bodies:
        app.router.add_get(path, packed)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/"), asked


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/raw-deflate"])
async def test_a_compressed_page_is_read_unpacked(
    packed_site: tuple[str, list[str]], http: WebClient, path: str
) -> None:
    """gzip and deflate (zlib-wrapped or bare) pages come back as their text; only these two
    codings are offered."""
    base, asked = packed_site

    html = await fetch_page(http, f"{base}{path}")

    assert HEADLINE in html
    assert asked == ["gzip, deflate"]


async def test_a_gzip_bomb_stops_at_the_cap_without_being_unpacked(
    packed_site: tuple[str, list[str]], http: WebClient
) -> None:
    """About 64 KB of gzip unpacking to 64 MB is refused at the 1 MB cap, and the fetch never
    holds much more than the cap in memory."""
    base, _ = packed_site

    tracemalloc.start()
    try:
        with pytest.raises(IngestError) as refused:
            await fetch_page(http, f"{base}/bomb", max_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(refused.value) == f"{base}/bomb: a web page larger than the 1,000,000 byte limit"
    assert peak < 8 * 1_000_000 < BOMB_UNPACKED


@pytest.mark.parametrize(("path", "coding"), [("/brotli", "br"), ("/twice", "gzip, gzip")])
async def test_a_coding_not_offered_is_refused(
    packed_site: tuple[str, list[str]], http: WebClient, path: str, coding: str
) -> None:
    """A body packed in a coding the fetcher did not offer is refused, naming the coding."""
    base, _ = packed_site

    with pytest.raises(IngestError) as refused:
        await fetch_page(http, f"{base}{path}")

    assert (
        str(refused.value) == f"{base}{path}: sent in {coding!r} coding, which was not asked for"
    )


async def test_a_broken_gzip_body_is_reported(
    packed_site: tuple[str, list[str]], http: WebClient
) -> None:
    """A body that is not the gzip it claims to be gives a clear error, not garbage text."""
    base, _ = packed_site

    with pytest.raises(IngestError, match=r"/broken-gzip: a web page that cannot be unpacked: "):
        await fetch_page(http, f"{base}/broken-gzip")
