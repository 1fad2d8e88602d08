"""The HTTP face of the emulator: `/bot<token>/<method>` in every body format Telegram accepts.

Every answer is the Bot API envelope with HTTP status = error_code, and every call is recorded
(a list append) with the envelope it got, unless recording is switched off. `perform` is the one
dispatch of a call: the HTTP requests and the method calls bots put in their webhook replies
(emulator.updates) both go through it, so both meet the same checks, limits and error texts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl

from aiohttp import web

from emulator import chats, faults, files, forums, interaction, messaging, reactions, updates
from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.params import METHODS, UploadedFile, validate
from emulator.state import BotAccount, JsonObject, RecordedRequest, World

WORLD_KEY = web.AppKey("world", World)
MAX_BODY_BYTES = 60 * 1024 * 1024
# Reads a call's raw parameters; only once the method is known and no fault answers instead.
ParamReader = Callable[[], Awaitable[dict[str, object]]]


async def perform(
    world: World,
    bot: BotAccount | None,
    method: str,
    read_params: ParamReader,
    *,
    webhook_reply: bool = False,
) -> RecordedRequest:
    """One call of `method` by `bot`, as Telegram carries it out: the method found by its name,
    an injected fault, the parameters validated, the method run; the call and its envelope
    recorded (unless recording is off) and counted by status."""
    params: dict[str, object] = {}
    body: JsonObject
    try:
        if bot is None:
            raise ApiError.unauthorized()
        name = _BY_LOWER_NAME.get(method.lower())
        if name is None:
            raise ApiError.not_found()
        method = name
        fault = world.faults.take(name)
        if fault is not None and not fault.answers_ok:
            raise await faults.answer_with(fault, world)
        params = validate(name, await read_params())
        if fault is not None:
            # A server that answers "ok" with something odd: the method itself never runs.
            result = fault.result
        else:
            result = await HANDLERS[name](Call(world, bot, params))
        body, status = {"ok": True, "result": result}, 200
    except ApiError as error:
        body, status = error.envelope(), error.code
    world.answers_by_status[status] += 1
    recorded = RecordedRequest(
        bot_id=bot.id if bot else None,
        method=method,
        params=params,
        status=status,
        response=body,
        at=world.clock.now(),
        webhook_reply=webhook_reply,
    )
    if world.record_requests:
        world.requests.append(recorded)
    world.signal.notify()
    return recorded


async def _perform_webhook_reply(
    world: World, bot: BotAccount, method: str, params: dict[str, object]
) -> RecordedRequest:
    async def given() -> dict[str, object]:
        return params

    return await perform(world, bot, method, given, webhook_reply=True)


HANDLERS: dict[str, Handler] = {
    **messaging.HANDLERS,
    **interaction.HANDLERS,
    **chats.HANDLERS,
    **updates.handlers(_perform_webhook_reply),
    **files.HANDLERS,
    **reactions.HANDLERS,
    **forums.HANDLERS,
}
# Method names are case-insensitive in the Bot API.
_BY_LOWER_NAME = {name.lower(): name for name in HANDLERS if name in METHODS}


async def _read_params(request: web.Request) -> dict[str, object]:
    raw: dict[str, object] = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return raw
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError.bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("can't parse JSON object")
        raw.update(body)
    elif content_type == "multipart/form-data":
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                raw[name] = UploadedFile(
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            else:
                raw[name] = value
    else:
        # Form-urlencoded, and what clients send without a content type.
        text = await request.text()
        raw.update(parse_qsl(text, keep_blank_values=True))
    return raw


def _response(body: Mapping[str, object], status: int) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


async def handle(request: web.Request) -> web.Response:
    world = request.app[WORLD_KEY]
    bot = world.bots_by_token.get(request.match_info["token"])

    async def read_params() -> dict[str, object]:
        return await _read_params(request)

    recorded = await perform(world, bot, request.match_info["method"], read_params)
    return _response(recorded.response, recorded.status)


async def handle_download(request: web.Request) -> web.Response:
    """`GET /file/bot<token>/<file_path>`: a file's bytes, as Telegram's file server sends them."""
    world = request.app[WORLD_KEY]
    try:
        data = files.download(world, request.match_info["token"], request.match_info["path"])
    except ApiError as error:
        return _response(error.envelope(), error.code)
    return web.Response(body=data, content_type="application/octet-stream")


def build_app(world: World) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[WORLD_KEY] = world
    app.router.add_route("POST", "/bot{token}/{method}", handle)
    app.router.add_route("GET", "/bot{token}/{method}", handle)
    app.router.add_route("GET", "/file/bot{token}/{path:.+}", handle_download)
    return app
