"""Webhook mode: an aiohttp endpoint that takes Telegram's pushes and feeds them to the bot.

Telegram (or the emulator) POSTs each update as JSON to WEBHOOK_URL with the secret token in the
`X-Telegram-Bot-Api-Secret-Token` header. Requests without the right secret get 403 and are
counted; a body that is not an update gets 400, one log line and a count; good ones go onto the
application's update queue. Several processes may listen on the
same port (SO_REUSEPORT), so a host can run N workers behind one URL. With LINK_TRACKING_URL
set, the same server answers the cards' tracked links (`<its path>/r/<code>`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update
from telegram._utils.types import JSONDict

from bot.app import CONCURRENT_UPDATES, HANDLED_UPDATES, on_shutdown, on_startup
from bot.articles.links import ArticleLinks
from bot.runtime.express import ExpressLane
from bot.runtime.lifecycle import initialize
from bot.services import BotApplication
from bot.settings import Settings
from storage.engine import DATABASE_ERRORS

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # a header name, not a secret
# Telegram's own cap on an update body is far below this; anything bigger is not Telegram.
_MAX_BODY = 1_000_000
# Telegram's updates nest a few levels (a reply inside a message, buttons in rows); a body
# nested deeper is not an update, and would only cost python-telegram-bot's recursive parse.
_MAX_DEPTH = 32
UNKNOWN_LINK = "This link does not lead to any article.\n"
LINKS_UNAVAILABLE = "Links are briefly unavailable: please try again in a minute.\n"


# What a JSON body other than an object was, for the log line.
_JSON_KINDS: dict[type, str] = {
    type(None): "null",
    bool: "true or false",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
}


class NotAnUpdateError(ValueError):
    """A webhook body that is not a Telegram update; the message says why, never quoting it."""


def _depth(payload: object) -> int:
    """How deeply JSON objects and arrays nest in the payload (without recursing)."""
    deepest, pending = 0, [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        children = list(value.values()) if isinstance(value, dict) else value
        if isinstance(children, list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children)
    return deepest


def read_payload(body: bytes) -> JSONDict:
    """The update a webhook body carries, as JSON, or NotAnUpdateError saying what is wrong."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise NotAnUpdateError("JSON nested too deeply") from None
    except ValueError:  # not JSON, or not UTF-8
        raise NotAnUpdateError("not JSON") from None
    if not isinstance(payload, dict):
        kind = _JSON_KINDS.get(type(payload), "value")
        raise NotAnUpdateError(f"a JSON {kind}, not an object")
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise NotAnUpdateError("no integer update_id")
    if _depth(payload) > _MAX_DEPTH:
        raise NotAnUpdateError(f"nested more than {_MAX_DEPTH} levels deep")
    return payload


def parse_update(payload: JSONDict, bot: Bot) -> Update:
    """The update as python-telegram-bot's object, or NotAnUpdateError if a field is malformed."""
    try:
        return Update.de_json(payload, bot)
    # A malformed field fails in whatever way python-telegram-bot's parsing of it does.
    except Exception as error:
        raise NotAnUpdateError(f"a field is malformed ({type(error).__name__})") from None


@dataclass
class WebhookStats:
    accepted: int = 0
    rejected_secret: int = 0
    rejected_body: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)


class WebhookReceiver:
    """The HTTP side: checks each request and queues the update it carries."""

    def __init__(self, application: BotApplication, *, secret: str, path: str) -> None:
        self.application = application
        self.path = path
        self.stats = WebhookStats()
        self._secret = secret.encode()
        self._links = ArticleLinks.from_settings(application.bot_data.settings)
        self._express = ExpressLane.for_application(application, concurrency=CONCURRENT_UPDATES)

    def routes(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post(self.path, self.receive)
        app.router.add_get("/healthz", self.health)
        if (tracked := self._links.tracked_route()) is not None:
            app.router.add_get(tracked, self.follow_link)
        return app

    async def follow_link(self, request: web.Request) -> web.Response:
        """A reader followed a card's tracked link: one click counted (nothing about the reader
        kept), then 302 to the article; 404 with one line for a code the bot never made.

        A click that cannot be counted still leads to the article (the reader comes first);
        when not even the link can be looked up, 503 with one line asks to try again."""
        db = self.application.bot_data.db
        try:
            async with db.transaction() as session:
                link = await self._links.follow(session, request.match_info["code"])
        except DATABASE_ERRORS as error:
            log.warning("tracked link not looked up (database: %s): answered 503", error)
            return web.Response(status=503, text=LINKS_UNAVAILABLE, headers={"Retry-After": "60"})
        if link is None:
            log.info("tracked link with an unknown code followed: answered 404")
            return web.Response(status=404, text=UNKNOWN_LINK)
        try:
            async with db.transaction() as session:
                await link.count_click(session)
        except DATABASE_ERRORS as error:
            log.warning("click on article %s not counted (database: %s)", link.article_id, error)
        # Not cached by browsers or proxies: every click reaches the bot and is counted.
        return web.Response(
            status=302, headers={"Location": link.target, "Cache-Control": "no-store"}
        )

    async def receive(self, request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(offered, self._secret):
            self.stats.rejected_secret += 1
            log.warning("webhook request without the right secret from %s refused", request.remote)
            return web.Response(status=403, text="Forbidden")
        # A body past client_max_size is answered 413 by aiohttp itself.
        body = await request.read()
        try:
            payload = read_payload(body)
            express = self._express.read(payload)
            update = parse_update(payload, self.application.bot) if express is None else None
        except NotAnUpdateError as error:
            reason = str(error)
            self.stats.rejected_body += 1
            self.stats.rejected_by_reason[reason] = (
                self.stats.rejected_by_reason.get(reason, 0) + 1
            )
            log.warning("webhook body from %s is not an update: %s", request.remote, reason)
            return web.Response(status=400, text="Bad Request")
        self.stats.accepted += 1
        if express is not None:
            # A tap is answered in the reply: one request fewer than a call of its own.
            method = await self._express.reply(payload, express)
            return web.Response(text="ok") if method is None else web.json_response(method)
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def health(self, request: web.Request) -> web.Response:
        del request
        return web.json_response(
            {
                "accepted": self.stats.accepted,
                "rejected_secret": self.stats.rejected_secret,
                "rejected_body": self.stats.rejected_body,
            }
        )


def webhook_path(settings: Settings) -> str:
    if settings.webhook_url is None:
        raise ValueError("WEBHOOK_URL is required in webhook mode")
    return urlsplit(settings.webhook_url).path or "/"


@asynccontextmanager
async def webhook(
    application: BotApplication, settings: Settings, *, register: bool = True
) -> AsyncIterator[WebhookReceiver]:
    """Runs the bot fed by a webhook until the block ends; `register` calls setWebhook."""
    if settings.webhook_secret is None or settings.webhook_url is None:
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    secret = settings.webhook_secret.get_secret_value()
    receiver = WebhookReceiver(application, secret=secret, path=webhook_path(settings))
    runner = web.AppRunner(receiver.routes(), access_log=None)
    await initialize(application)
    try:
        await on_startup(application)
        await application.start()
        await runner.setup()
        site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port, reuse_port=True)
        await site.start()
        if register:
            await application.bot.set_webhook(
                settings.webhook_url,
                secret_token=secret,
                allowed_updates=list(HANDLED_UPDATES),
                max_connections=100,
            )
        log.info(
            "listening for webhook updates on %s:%s",
            settings.webhook_listen,
            settings.webhook_port,
        )
        try:
            yield receiver
        finally:
            await runner.cleanup()
            await application.stop()
    finally:
        await application.shutdown()
        await on_shutdown(application)


async def serve_webhook(application: BotApplication, settings: Settings) -> None:
    """The `run --webhook` command: serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with webhook(application, settings):
        await stop.wait()
