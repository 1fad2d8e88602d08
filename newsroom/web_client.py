"""The HTTP client pages and feeds are fetched with: it connects only to addresses it checked.

Every connection (the first request and each redirect) resolves the host once, refuses it when
no address is public (unless an intranet is allowed), and connects to the checked address
itself, so a second DNS answer can never swap in another. The Host header and TLS server name
stay the name from the page address. Proxies from the environment are not used: a proxy would
resolve names where the check cannot see.
"""

import asyncio
import socket
from collections.abc import Iterable
from ipaddress import ip_address

import httpcore
import httpx

from newsroom.addresses import is_public

ALLOW_PRIVATE_HINT = "set FETCH_ALLOW_PRIVATE=true to fetch from an intranet"


class AddressRefused(Exception):
    """A page address leads to an address the client may not connect to; says which and why."""


class WebClient(httpx.AsyncClient):
    """An httpx client whose every connection goes to a public address it resolved itself.

    `allow_private` lets it reach loopback and intranet addresses too (still resolved once).
    """

    def __init__(self, *, allow_private: bool = False, user_agent: str | None = None) -> None:
        headers = {"User-Agent": user_agent} if user_agent else None
        super().__init__(
            headers=headers,
            transport=_CheckedTransport(allow_private=allow_private),
            trust_env=False,
        )


class _CheckedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, allow_private: bool) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx takes no network backend, so its pool is rebuilt around ours (httpx's defaults).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_CheckedBackend(allow_private=allow_private),
        )


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._sockets = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        allowed = [a for a in addresses if self._allow_private or is_public(a)]
        if not allowed:
            raise AddressRefused(_refusal(host, addresses[0]))
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in allowed:
            try:
                return await self._sockets.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # `allowed` is never empty here
        raise failure

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """Every address the host resolves to, in the resolver's order, each once."""
    try:
        async with asyncio.timeout(timeout):
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"no address for {host} in time") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise httpcore.ConnectError(f"{host} could not be resolved: {reason}") from None
    addresses = dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found)
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no address")
    return list(addresses)


def _refusal(host: str, address: str) -> str:
    try:
        named_by_address = ip_address(host) == ip_address(address)
    except ValueError:
        named_by_address = False
    where = address if named_by_address else f"{host} resolves to {address}, which"
    return f"{where} is a private or local address ({ALLOW_PRIVATE_HINT})"
