"""Starting and stopping the bot as `run_polling` does, inside the caller's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update

from bot.app import on_shutdown, on_startup
from bot.context import BotApplication


@asynccontextmanager
async def polling(
    application: BotApplication, *, poll_timeout: int = 10
) -> AsyncIterator[BotApplication]:
    """Runs the bot with long polling inside the caller's event loop until the block ends."""
    await application.initialize()
    try:
        await on_startup(application)
        if application.updater is None:
            raise RuntimeError("the application was built without an updater")
        await application.updater.start_polling(
            timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
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
