"""The emulator as tests, the demo and benchmarks drive it: Telegram's users, and what chats show.

`Emulator` runs the HTTP server in the caller's event loop. Its methods play users (send, press,
type inline queries, block the bot, manage groups) and produce the updates Telegram would send;
its readers show chats as readers see them, and every request the bot made. Each subject is a
part of its own, composed here: people.py, writing.py, reactions.py, queries.py, membership.py,
forums.py, faults.py and inspection.py, all standing on base.py.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from emulator.clock import Clock, SystemClock
from emulator.limits import RateLimits
from emulator.server import build_app
from emulator.simulation.faults import Faults
from emulator.simulation.forums import Forums
from emulator.simulation.inspection import Inspection
from emulator.simulation.membership import Membership
from emulator.simulation.people import FIRST_USER_ID, People
from emulator.simulation.queries import Queries
from emulator.simulation.reactions import Reactions
from emulator.simulation.writing import Writing
from emulator.state import (
    BotAccount,
    CallbackAnswer,
    Chat,
    ForumTopic,
    InlineAnswer,
    Message,
    RecordedRequest,
    User,
    WebhookReplyError,
    World,
)
from emulator.web import is_loopback, mount_web

SimUser = User
SimChat = Chat
SimMessage = Message

__all__ = [
    "FIRST_USER_ID",
    "BotAccount",
    "CallbackAnswer",
    "Emulator",
    "ForumTopic",
    "InlineAnswer",
    "RecordedRequest",
    "SimChat",
    "SimMessage",
    "SimUser",
    "WebhookReplyError",
]


class Emulator(People, Writing, Reactions, Queries, Membership, Forums, Faults, Inspection):
    """A Telegram Bot API server on loopback, plus the users and chats a test plays with."""

    # Declared here: inside __init__ the `web` flag hides the aiohttp module.
    _runner: web.AppRunner | None

    def __init__(
        self,
        *,
        limits: RateLimits | None = None,
        clock: Clock | None = None,
        callback_answer_timeout: float = 15.0,
        host: str = "127.0.0.1",
        port: int = 0,
        record_requests: bool = True,
        web: bool = False,
    ) -> None:
        if web and not is_loopback(host):
            raise ValueError(f"the web view serves on loopback only, not on {host!r}")
        super().__init__(
            World(
                clock=clock if clock is not None else SystemClock(),
                limits=limits if limits is not None else RateLimits(),
                callback_answer_timeout=callback_answer_timeout,
                record_requests=record_requests,
            )
        )
        self._host = host
        self._port = port
        self._web = web
        self._runner = None

    @property
    def limits(self) -> RateLimits:
        return self.world.limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self.world.limits = limits
        self.world.flood.limits = limits

    async def start(self) -> None:
        self.world.closing = False
        app = build_app(self.world)
        if self._web:
            mount_web(app, self)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        world = self.world
        world.closing = True
        for bot in world.bots.values():
            bot.wake()
        # Web view long polls answer at once too.
        world.signal.notify()
        for task in list(world.background):
            task.cancel()
        if world.background:
            await asyncio.gather(*world.background, return_exceptions=True)
        if world.http is not None:
            await world.http.close()
            world.http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as base_url: it appends the token."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def web_url(self) -> str:
        """The web view's page (served only when the emulator runs with `web=True`)."""
        return f"http://{self._host}:{self._port}/web/"

    @property
    def base_file_url(self) -> str:
        """What python-telegram-bot takes as base_file_url for downloads: it appends the token."""
        return f"http://{self._host}:{self._port}/file/bot"
