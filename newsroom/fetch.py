"""Bounded HTTP GET for pages and feeds: few redirects, one deadline, a size cap, a type check.

Each hop may be confined to listed sites; the size cap counts unpacked bytes; connections go
through WebClient, which refuses private and local addresses. Every failure becomes an
IngestError naming the address and a reason an admin can act on.
"""

import asyncio
import codecs
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from newsroom.content_coding import ACCEPTED, BoundedBody, OverLimit, UnaskedCoding, Unreadable
from newsroom.errors import IngestError
from newsroom.urls import is_web_url, on_sites
from newsroom.web_client import AddressRefused, WebClient

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class _Wanted:
    accept: Collection[str]
    what: str
    max_bytes: int
    timeout: float
    sites: Collection[str] | None


@dataclass(frozen=True, slots=True)
class Download:
    """What a server answered: the final address after redirects and the body it sent."""

    url: str
    status: int
    media_type: str
    charset: str | None
    headers: httpx.Headers
    content: bytes

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304: the copy the caller holds is current."""
        return self.status == 304


async def download(
    client: WebClient,
    url: str,
    *,
    accept: Collection[str],
    what: str,
    max_bytes: int,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    sites: Collection[str] | None = None,
) -> Download:
    """GET `url`, following at most five redirects, all within `timeout` seconds.

    `accept` lists the media types wanted and `what` names them for messages ("a web page").
    With `sites`, the address and every redirect must stay on those sites (subdomains too).
    A 304 answer comes back with no content; any other status outside 2xx is an error.
    """
    if not isinstance(client, WebClient):
        # A plain httpx client would connect anywhere: loopback, the intranet, cloud metadata.
        raise TypeError("pages and feeds are fetched with a newsroom.web_client.WebClient")
    if not is_web_url(url):
        raise IngestError(f"{url}: not an http(s) address")
    if sites is not None and not on_sites(url, sites):
        raise IngestError(f"{url}: not on the listed sites")
    try:
        async with asyncio.timeout(timeout):
            wanted = _Wanted(accept, what, max_bytes, timeout, sites)
            return await _follow(client, url, wanted, headers or {})
    except TimeoutError:
        raise IngestError(f"{url}: no complete answer within {timeout:g} seconds") from None
    except httpx.TimeoutException:
        raise IngestError(f"{url}: no complete answer within {timeout:g} seconds") from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        reason = str(error) or type(error).__name__
        raise IngestError(f"{url}: could not be fetched ({reason})") from None


def decode_text(content: bytes, charset: str | None) -> str:
    """The text of a downloaded document: declared charset, else a meta charset, else UTF-8."""
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    for candidate in (charset, _sniffed_charset(content)):
        if candidate:
            try:
                return content.decode(codecs.lookup(candidate).name, errors="replace")
            except LookupError:
                continue
    return content.decode("utf-8", errors="replace")


async def _follow(
    client: httpx.AsyncClient, url: str, wanted: _Wanted, headers: Mapping[str, str]
) -> Download:
    visited = [url]
    current = url
    # Only codings BoundedBody can unpack within the limit are offered.
    asked = {"Accept-Encoding": ACCEPTED, **headers}
    while True:
        request = client.build_request("GET", current, headers=asked, timeout=wanted.timeout)
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except AddressRefused as refusal:
            hop = "" if current == url else f"it redirects to {current}, and "
            raise IngestError(f"{url}: refused: {hop}{refusal}") from None
        try:
            if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
                target = urljoin(current, response.headers["location"])
                current = _next_hop(url, visited, target, wanted.sites)
                continue
            return await _read(url, current, response, wanted)
        finally:
            await response.aclose()


def _next_hop(url: str, visited: list[str], target: str, sites: Collection[str] | None) -> str:
    if not is_web_url(target):
        raise IngestError(f"{url}: redirects to {target!r}, which is not an http(s) address")
    if sites is not None and not on_sites(target, sites):
        raise IngestError(f"{url}: redirects off the listed sites (to {target})")
    if target in visited:
        raise IngestError(f"{url}: redirects in a loop (back to {target})")
    if len(visited) > MAX_REDIRECTS:
        raise IngestError(f"{url}: more than {MAX_REDIRECTS} redirects (stopped at {target})")
    visited.append(target)
    return target


async def _read(url: str, final_url: str, response: httpx.Response, wanted: _Wanted) -> Download:
    what, max_bytes = wanted.what, wanted.max_bytes
    status = response.status_code
    if status == 304:
        return Download(final_url, status, "", None, response.headers, b"")
    if not 200 <= status < 300:
        phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise IngestError(f"{url}: the server answered HTTP {status}{phrase}")
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in wanted.accept:
        found = f"its content type is {media_type}" if media_type else "it has no content type"
        raise IngestError(f"{url}: not {what} ({found})")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise IngestError(
            f"{url}: {what} of {int(declared):,} bytes is over the {max_bytes:,} limit"
        )
    coding = response.headers.get("content-encoding", "")
    try:
        body = BoundedBody(coding, limit=max_bytes)
        # Raw bytes, unpacked here: httpx would unpack a whole chunk at once, however large.
        async for chunk in response.aiter_raw():
            body.feed(chunk)
        content = body.content()
    except UnaskedCoding:
        raise IngestError(f"{url}: sent in {coding!r} coding, which was not asked for") from None
    except OverLimit:
        # Stop reading here: closing the stream drops the rest unread.
        raise IngestError(f"{url}: {what} larger than the {max_bytes:,} byte limit") from None
    except Unreadable as error:
        raise IngestError(f"{url}: {what} that cannot be unpacked: {error}") from None
    return Download(
        final_url, status, media_type, response.charset_encoding, response.headers, content
    )


def _sniffed_charset(content: bytes) -> str | None:
    match = _META_CHARSET.search(content[:4096])
    return match.group(1).decode("ascii") if match else None
