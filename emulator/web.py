"""The emulator's web view: every chat as a live transcript, written in and pressed as any user.

Mounted under /web/ on the emulator's own server when it runs with `web=True` (loopback only).
The page long-polls a version number that moves whenever what it shows changes; a press goes
through `Emulator.press_button`, so the bot gets a real callback_query and its answer is shown;
the composer's posts (new users, chats, the bot added, messages) go through emulator.composer.
Every post is JSON, which another site's page cannot send without a CORS preflight we never
answer. Nothing served here contains a bot token.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from importlib import resources
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from aiohttp import web

from emulator import composer, transcript
from emulator.server import MAX_BODY_BYTES
from emulator.state import JsonObject, Message, User, World

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from emulator.simulation import Emulator

    WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ASSETS = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
}
LONG_POLL_SECONDS = 25.0
PRESS_TIMEOUT_SECONDS = 10.0
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class _Version:
    """A number that moves on when the world's fingerprint changes; what the page waits on."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._seen: tuple[int, ...] | None = None
        self.number = 0

    def current(self) -> int:
        seen = transcript.fingerprint(self._world)
        if seen != self._seen:
            self._seen = seen
            self.number += 1
        return self.number


# Typed without importing simulation at run time: simulation imports this module.
EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("web_emulator")
VERSION_KEY = web.AppKey("web_version", _Version)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_only(handler: WebHandler) -> WebHandler:
    """Refuse other machines, and pages of other sites that reach loopback by DNS rebinding."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        host = urlsplit(f"//{request.host}").hostname or ""
        if not is_loopback(request.remote or "") or not is_loopback(host):
            raise web.HTTPForbidden(text="the web view answers on loopback only")
        return await handler(request)

    return guarded


def _json(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


def _emulator(request: web.Request) -> Emulator:
    return request.app[EMULATOR_KEY]


async def _asset(request: web.Request) -> web.Response:
    name = request.match_info.get("name") or "index.html"
    content_type = ASSETS.get(name)
    if content_type is None:
        raise web.HTTPNotFound
    body = resources.files("emulator").joinpath("web", name).read_text(encoding="utf-8")
    return web.Response(
        text=body, content_type=content_type, headers={"Cache-Control": "no-store"}
    )


async def _to_page(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/web/")


async def _chats(request: web.Request) -> web.Response:
    world = _emulator(request).world
    version = request.app[VERSION_KEY].current()
    chats = [transcript.chat_summary(world, chat) for chat in transcript.shown_chats(world)]
    return _json({"version": version, "chats": chats})


async def _users(request: web.Request) -> web.Response:
    return _json({"users": transcript.users_list(_emulator(request).world)})


async def _bots(request: web.Request) -> web.Response:
    return _json({"bots": transcript.bots_list(_emulator(request).world)})


async def _messages(request: web.Request) -> web.Response:
    world = _emulator(request).world
    chat = transcript.find_chat(world, request.match_info["key"])
    if chat is None:
        return _json({"error": "no such chat"}, 404)
    version = request.app[VERSION_KEY].current()
    return _json({"version": version, **transcript.chat_transcript(world, chat)})


async def _version(request: web.Request) -> web.Response:
    """Answers once the version differs from `after`, or after a while with the same one."""
    world = _emulator(request).world
    versions = request.app[VERSION_KEY]
    try:
        after = int(request.query.get("after", "-1"))
    except ValueError:
        after = -1
    loop_time = asyncio.get_running_loop().time
    deadline = loop_time() + LONG_POLL_SECONDS
    while True:
        # Reading the version and starting to wait happen without yielding: no change is missed.
        number = versions.current()
        remaining = deadline - loop_time()
        if number != after or remaining <= 0 or world.closing:
            return _json({"version": number})
        await world.signal.wait(remaining)


# Images the page may show inline, by their first bytes; anything else is only downloaded.
_IMAGE_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


async def _file(request: web.Request) -> web.Response:
    """A file's bytes for the page: photos shown inline, documents as a download."""
    world = _emulator(request).world
    stored = world.stored_files.get(request.match_info["file_id"])
    if stored is None:
        return _json({"error": "no such file"}, 404)
    document = world.documents.get(stored.file_id)
    image = next((kind for sig, kind in _IMAGE_SIGNATURES if stored.data.startswith(sig)), None)
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        # A file is never a page of this origin: no scripts, no styles, nothing it may load.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if document is not None or image is None:
        name = str(document.get("file_name", "file")) if document is not None else "file"
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return web.Response(
        body=stored.data, content_type=image or "application/octet-stream", headers=headers
    )


def _refusal(kind: type[web.HTTPError], error: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": error}), content_type="application/json")


def _int_field(body: dict[str, object], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refusal(web.HTTPBadRequest, f"{name} must be an integer")
    return value


def _pressed(world: World, body: dict[str, object]) -> tuple[Message, User, JsonObject]:
    """The message, the user and the callback button a press names, or the refusal."""
    chat = transcript.find_chat(world, str(body.get("chat", "")))
    message = chat.messages.get(_int_field(body, "message_id")) if chat is not None else None
    if message is None or message.deleted:
        raise _refusal(web.HTTPNotFound, "no such message")
    user = world.users.get(_int_field(body, "user_id"))
    if user is None or user.is_bot:
        raise _refusal(web.HTTPNotFound, "no such user")
    row, column = _int_field(body, "row"), _int_field(body, "column")
    rows = message.buttons
    if not (0 <= row < len(rows) and 0 <= column < len(rows[row])):
        raise _refusal(web.HTTPNotFound, "no such button")
    button = rows[row][column]
    if "callback_data" not in button:
        raise _refusal(web.HTTPBadRequest, "not a callback button")
    return message, user, button


async def _json_body(request: web.Request) -> dict[str, object]:
    """The posted JSON object, or the refusal (a form post, broken JSON, an oversized body)."""
    # A JSON body cannot come from another site's form without a CORS preflight we never answer.
    if request.content_type != "application/json":
        raise _refusal(web.HTTPUnsupportedMediaType, "send JSON")
    try:
        body = await request.json()
    except ValueError:
        raise _refusal(web.HTTPBadRequest, "send a JSON object") from None
    except web.HTTPRequestEntityTooLarge:
        error = f"a post is at most {MAX_BODY_BYTES // (1024 * 1024)} MB"
        raise web.HTTPRequestEntityTooLarge(
            MAX_BODY_BYTES, text=json.dumps({"error": error}), content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise _refusal(web.HTTPBadRequest, "send a JSON object")
    return body


async def _press(request: web.Request) -> web.Response:
    """Press a callback button as a user: a real callback_query, answered with the bot's toast."""
    body = await _json_body(request)
    emulator = _emulator(request)
    message, user, button = _pressed(emulator.world, body)
    try:
        answer = await emulator.press_button(
            user,
            message,
            text=button.get("text"),
            data=str(button["callback_data"]),
            timeout=PRESS_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        raise _refusal(web.HTTPGatewayTimeout, "the bot did not answer") from None
    except (LookupError, ValueError) as error:
        raise _refusal(web.HTTPBadRequest, str(error)) from None
    return _json(
        {"answer": {"text": answer.text, "show_alert": answer.show_alert, "url": answer.url}}
    )


def _composing(action: composer.Action) -> WebHandler:
    """One composer action as a POST handler: its JSON answer, or its refusal as JSON."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        emulator = _emulator(request)
        try:
            answer = await action(emulator, body)
        except composer.Refusal as refusal:
            return _json({"error": refusal.error}, refusal.status)
        # New users and groups change what the page shows without any update being queued.
        emulator.world.signal.notify()
        return _json(answer)

    return handle


def mount_web(app: web.Application, emulator: Emulator) -> None:
    """Add the web view's routes (page, JSON, press, composer) to the emulator's app."""
    app[EMULATOR_KEY] = emulator
    app[VERSION_KEY] = _Version(emulator.world)
    routes: list[tuple[str, str, WebHandler]] = [
        ("GET", "/web", _to_page),
        ("GET", "/web/", _asset),
        ("GET", "/web/api/chats", _chats),
        ("GET", "/web/api/users", _users),
        ("GET", "/web/api/bots", _bots),
        ("GET", "/web/api/chats/{key}/messages", _messages),
        ("GET", "/web/api/version", _version),
        ("GET", "/web/api/files/{file_id}", _file),
        ("POST", "/web/api/press", _press),
        *(
            ("POST", f"/web/api/{name}", _composing(action))
            for name, action in composer.ACTIONS.items()
        ),
        ("GET", "/web/{name}", _asset),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _local_only(handler))
