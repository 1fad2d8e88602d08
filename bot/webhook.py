"""Webhook mode: an aiohttp endpoint that takes Telegram's pushes and feeds them to the bot.

Telegram (or the emulator) POSTs each update as JSON to WEBHOOK_URL with the secret token in the
`X-Telegram-Bot-Api-Secret-Token` header. Requests without the right secret get 403 and are
counted; good ones go onto the application's update queue. Several processes may listen on the
same port (SO_REUSEPORT), so a host can run N workers behind one URL.
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
from telegram import Update

from bot.app import on_shutdown, on_startup
from bot.context import BotApplication
from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # a header name, not a secret
# Telegram's own cap on an update body is far below this; anything bigger is not Telegram.
_MAX_BODY = 1_000_000


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

    def routes(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post(self.path, self.receive)
        app.router.add_get("/healthz", self.health)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(offered, self._secret):
            self.stats.rejected_secret += 1
            log.warning("webhook request without the right secret from %s refused", request.remote)
            return web.Response(status=403, text="Forbidden")
        try:
            payload = await request.json(loads=json.loads)
            update = Update.de_json(payload, self.application.bot)
        except (ValueError, TypeError, KeyError) as error:
            self.stats.rejected_body += 1
            log.warning("webhook body is not an update: %s", error)
            return web.Response(status=400, text="Bad Request")
        self.stats.accepted += 1
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
    await application.initialize()
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
                allowed_updates=Update.ALL_TYPES,
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
