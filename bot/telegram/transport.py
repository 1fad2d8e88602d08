"""python-telegram-bot's HTTP requests on aiohttp: the same contract, a fraction of the cost.

Profiles of fan-out and vote storms put most of the bot's time in the default httpx transport
(httpcore checks every idle pooled connection on every request). This `BaseRequest` posts the
same JSON payloads through one aiohttp session and maps its failures onto python-telegram-bot's
errors: timeouts raise `TimedOut`, other transport failures `NetworkError`, and no message
ever carries the request's URL, which holds the bot token. An error answer that is not the Bot
API's JSON (a proxy's or a wrong server's page) becomes the envelope Telegram would send, so it
maps onto the same errors without python-telegram-bot logging a parse failure and its traceback.
"""

from __future__ import annotations

import functools
import json
import urllib.request
from http import HTTPStatus
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# Uploads may take longer to write than a JSON body; python-telegram-bot's default too.
MEDIA_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session with at most `pool_size` connections, opened by initialize()."""

    def __init__(
        self,
        pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(  # noqa: PLR0917  # the signature is python-telegram-bot's
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        uploads = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        # aiohttp has no write timeout: an upload gets its write time on top of the read.
        write = _given(write_timeout, MEDIA_TIMEOUT) if uploads else None
        timeout = _client_timeout(read, connect, pool, write)
        body: bytes | aiohttp.FormData | None = None
        headers: dict[str, str] = {}
        if request_data is not None and uploads:
            body = _form(request_data)
        elif request_data is not None:
            body = request_data.json_payload
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=_env_proxy(url)
            ) as response:
                status, payload = response.status, await response.read()
        except TimeoutError as error:  # aiohttp's own timeouts subclass it
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # Only the class: some aiohttp messages quote the URL, and the URL holds the token.
            raise NetworkError(f"aiohttp.{type(error).__name__}") from error
        if status >= HTTPStatus.MULTIPLE_CHOICES and not _is_json_object(payload):
            return status, _error_envelope(status)
        return status, payload


def _is_json_object(payload: bytes) -> bool:
    try:
        return isinstance(json.loads(payload), dict)
    except (ValueError, RecursionError):
        return False


def _error_envelope(status: int) -> bytes:
    """The Bot API's error envelope for an HTTP status, described by the status's phrase."""
    try:
        description = HTTPStatus(status).phrase
    except ValueError:
        description = f"HTTP error {status}"
    body = {"ok": False, "error_code": status, "description": description}
    return json.dumps(body).encode()


def _env_proxy(url: str) -> str | None:
    """The proxy HTTPS_PROXY and friends name for the URL's server (NO_PROXY honoured), as
    python-telegram-bot's default transport does; looked up once per server, not per call."""
    parts = urlsplit(url)
    return _proxy_for(parts.scheme, parts.hostname or "")


@functools.cache
def _proxy_for(scheme: str, host: str) -> str | None:
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


@functools.lru_cache(maxsize=64)
def _client_timeout(
    read: float | None, connect: float | None, pool: float | None, write: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for a call; built once per combination, not once per call."""
    return aiohttp.ClientTimeout(
        total=None,
        # aiohttp's `connect` covers waiting for a pooled connection and opening one.
        connect=None if pool is None or connect is None else pool + connect,
        sock_connect=connect,
        sock_read=None if read is None else read + (write or 0.0),
    )


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A call's own timeout, or ours when python-telegram-bot passed its 'not given' marker."""
    return default if isinstance(value, DefaultValue) else value


def _form(request_data: RequestData) -> aiohttp.FormData:
    """A multipart body: every parameter as a field, every file as a part of its own."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in request_data.multipart_data.items():
        filename, content, content_type = upload
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form
