"""Pages and feeds are fetched from public addresses only: this machine, the local network and
cloud metadata are refused, by address, by name and by redirect, and the address checked is the
address connected to.

Names are answered by a stand-in resolver where a test needs them to point somewhere chosen;
127.0.0.2 plays a public news site (the one address the tests count as public), serving pages
and redirecting wherever it is told.
"""

import re
import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from newsroom_site import LocalSite

from newsroom import web_client
from newsroom.addresses import is_public
from newsroom.errors import IngestError
from newsroom.feeds import fetch_feed
from newsroom.web_client import WebClient
from newsroom.webpage import fetch_page, load_page

PUBLIC_STAND_IN = "127.0.0.2"
HINT = "a private or local address (set FETCH_ALLOW_PRIVATE=true to fetch from an intranet)"
SEED_PAGE = Path(__file__).parent / "fixtures" / "seed_shaped.html"
_REAL_GETADDRINFO = socket.getaddrinfo


@dataclass
class Resolver:
    """Answers chosen names with chosen addresses, one answer per lookup (the last repeats)."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    lookups: Counter[str] = field(default_factory=Counter)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return _REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.lookups[name] += 1
        turns = self.answers[name]
        address = turns.pop(0) if len(turns) > 1 else turns[0]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port), 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]


@dataclass
class NewsSite:
    """The stand-in public site: its port and the requests it answered (path, Host header)."""

    port: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(name="resolver")
def fixture_resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    """The stand-in resolver in front of the system's, and 127.0.0.2 counted as public."""
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(
        web_client, "is_public", lambda address: address == PUBLIC_STAND_IN or is_public(address)
    )
    return resolver


@pytest.fixture(name="news_site")
async def fixture_news_site(resolver: Resolver) -> AsyncIterator[NewsSite]:
    """news.example on 127.0.0.2: the seed page at /article, and /redirect?to=<address>."""
    site = NewsSite()
    resolver.answers["news.example"] = [PUBLIC_STAND_IN]

    async def article(request: web.Request) -> web.Response:
        site.requests.append((request.path, request.headers.get("Host", "")))
        return web.Response(body=SEED_PAGE.read_bytes(), content_type="text/html")

    async def redirect(request: web.Request) -> web.Response:
        site.requests.append((request.path, request.headers.get("Host", "")))
        raise web.HTTPFound(request.query["to"])

    app = web.Application()
    app.router.add_get("/article", article)
    app.router.add_get("/redirect", redirect)
    async with TestServer(app, host=PUBLIC_STAND_IN) as server:
        site.port = server.port or 0
        yield site


def _port(site: LocalSite) -> int:
    return int(site.base.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", r"127\.0\.0\.1 is"),
        ("localhost", r"localhost resolves to \S+, which is"),
        ("2130706433", r"2130706433 resolves to 127\.0\.0\.1, which is"),
        ("0x7f000001", r"0x7f000001 resolves to 127\.0\.0\.1, which is"),
        ("127.1", r"127\.1 resolves to 127\.0\.0\.1, which is"),
        ("[::1]", r"::1 is"),
        ("[::ffff:127.0.0.1]", r"::ffff:127\.0\.0\.1 is"),
    ],
)
async def test_an_address_on_this_machine_is_refused(
    site: LocalSite, host: str, reason: str
) -> None:
    """Every spelling of this machine's address is refused before connecting, with the reason
    and the setting that would allow it; the server there never hears a request."""
    url = f"http://{host}:{_port(site)}/article"

    async with WebClient() as client:
        with pytest.raises(
            IngestError, match=rf"^{_escaped(url)}: refused: {reason} {_escaped(HINT)}$"
        ):
            await fetch_page(client, url, timeout=2)

    assert site.requests == []


@pytest.mark.parametrize(
    "address",
    [
        "10.20.30.40",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.9",
        "0.0.0.0",  # noqa: S104 -- an address to refuse, not one to bind
        "224.0.0.251",
        "240.0.0.1",
        "fd00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
    ],
)
async def test_a_name_resolving_to_a_private_address_is_refused(
    resolver: Resolver, address: str
) -> None:
    """A name whose address is private, link-local (cloud metadata), shared (CGNAT),
    unspecified, multicast or reserved is refused, naming the address it resolved to."""
    resolver.answers["cms.intranet.example"] = [address]
    url = "http://cms.intranet.example/news/1"

    async with WebClient() as client:
        with pytest.raises(IngestError) as refused:
            await fetch_page(client, url, timeout=2)

    assert str(refused.value) == (
        f"{url}: refused: cms.intranet.example resolves to {address}, which is {HINT}"
    )


async def test_a_feed_on_this_machine_is_refused(site: LocalSite) -> None:
    """Feeds are downloaded through the same guard as pages."""
    url = site.url("/feed.xml")

    async with WebClient() as client:
        with pytest.raises(IngestError) as refused:
            await fetch_feed(client, url, timeout=2)

    assert str(refused.value) == f"{url}: refused: 127.0.0.1 is {HINT}"
    assert site.feed_requests == []


async def test_a_plain_httpx_client_is_not_accepted(site: LocalSite) -> None:
    """Only the guarded client fetches: a plain httpx client, which would connect anywhere, is
    turned away before any request."""
    async with httpx.AsyncClient() as plain:
        with pytest.raises(TypeError, match="WebClient"):
            await fetch_page(plain, site.url("/article"))  # type: ignore[arg-type]

    assert site.requests == []


async def test_a_page_read_without_a_client_is_refused_on_this_machine(site: LocalSite) -> None:
    """Reading an address without naming a client uses one that reaches public addresses only."""
    with pytest.raises(IngestError, match=rf"refused: 127\.0\.0\.1 is {_escaped(HINT)}"):
        await load_page(site.url("/article"), timeout=2)

    assert site.requests == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", r"127\.0\.0\.1 is"),
        ("localhost", r"localhost resolves to \S+, which is"),
        ("2130706433", r"2130706433 resolves to 127\.0\.0\.1, which is"),
        ("0x7f000001", r"0x7f000001 resolves to 127\.0\.0\.1, which is"),
        ("127.1", r"127\.1 resolves to 127\.0\.0\.1, which is"),
        ("[::1]", r"::1 is"),
        ("intranet.example", r"intranet\.example resolves to 127\.0\.0\.1, which is"),
    ],
)
async def test_a_public_page_redirecting_to_this_machine_is_refused(
    site: LocalSite, news_site: NewsSite, resolver: Resolver, host: str, reason: str
) -> None:
    """A public page redirecting to a local address is refused at that hop: the local server
    never hears a request, and the message names the page and where it led."""
    resolver.answers["intranet.example"] = ["127.0.0.1"]
    target = f"http://{host}:{_port(site)}/article"
    start = f"http://news.example:{news_site.port}/redirect?to={target}"

    async with WebClient() as client:
        with pytest.raises(
            IngestError,
            match=(
                rf"^{_escaped(start)}: refused: it redirects to {_escaped(target)}, "
                rf"and {reason} {_escaped(HINT)}$"
            ),
        ):
            await fetch_page(client, start, timeout=2)

    assert news_site.requests == [("/redirect", f"news.example:{news_site.port}")]
    assert site.requests == []


async def test_the_checked_address_is_the_one_connected_to(
    site: LocalSite, news_site: NewsSite, resolver: Resolver
) -> None:
    """A name that answers a public address once and a local one after (DNS rebinding) is
    looked up once per connection: the page comes from the public address, asked for by name."""
    resolver.answers["rebind.example"] = [PUBLIC_STAND_IN, "127.0.0.1"]
    url = f"http://rebind.example:{news_site.port}/article"

    async with WebClient() as client:
        html = await fetch_page(client, url, timeout=2)

    assert "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows" in html
    assert resolver.lookups["rebind.example"] == 1
    assert news_site.requests == [("/article", f"rebind.example:{news_site.port}")]
    assert site.requests == []


async def test_an_intranet_is_reached_when_allowed(site: LocalSite) -> None:
    """With private addresses allowed, a page on this machine is fetched as any other."""
    async with WebClient(allow_private=True) as client:
        html = await fetch_page(client, site.url("/article"), timeout=2)

    assert "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows" in html


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:93.184.215.14", True),
        ("2002:5db8:d70e::1", True),
        ("64:ff9b::5db8:d70e", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("198.18.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 -- an address to refuse, not one to bind
        ("255.255.255.255", False),
        ("239.255.255.250", False),
        ("::", False),
        ("::1", False),
        ("::127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("2002:7f00:1::1", False),
        ("64:ff9b::7f00:1", False),
        ("fe80::1%2", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
        ("not an address", False),
    ],
)
def test_only_public_unicast_addresses_are_public(address: str, *, public: bool) -> None:
    """IPv6 forms carrying an IPv4 address (mapped, compatible, 6to4, NAT64) count as it."""
    assert is_public(address) is public


def _escaped(text: str) -> str:
    return re.escape(text)
