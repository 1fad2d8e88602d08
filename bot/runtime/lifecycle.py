"""Starting and stopping the bot as `run_polling` does, inside the caller's event loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import HANDLED_UPDATES, on_shutdown, on_startup
from bot.services import BotApplication


async def initialize(application: BotApplication) -> None:
    """`application.initialize()`, which asks Telegram who the bot is (InvalidToken if the
    token is refused), without leaving the HTTP sessions it opened behind when it fails."""
    try:
        await application.initialize()
    except BaseException:
        # The application's own shutdown skips a bot whose getMe failed.
        await application.bot.shutdown()
        raise


@asynccontextmanager
async def polling(
    application: BotApplication, *, poll_timeout: int = 10
) -> AsyncIterator[BotApplication]:
    """Runs the bot with long polling inside the caller's event loop until the block ends."""
    await initialize(application)
    try:
        await on_startup(application)
        if application.updater is None:
            raise RuntimeError("the application was built without an updater")
        await application.updater.start_polling(
            timeout=poll_timeout, allowed_updates=list(HANDLED_UPDATES)
        )
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()
        await on_shutdown(application)


async def serve_polling(application: BotApplication) -> None:
    """The `run` command: poll until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with polling(application):
        await stop.wait()
