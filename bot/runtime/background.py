"""A background task that works in rounds: one round, then sleep until woken or due again."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot

log = logging.getLogger(__name__)

# Never spin: even a round that asks for no pause waits this long.
MIN_SLEEP_SECONDS = 0.05


class WakeableLoop:
    """Runs `_round` until stopped; `wake()` starts the next round at once.

    A round returns how long to sleep before the next one; a round that fails is logged and the
    loop sleeps `idle_seconds`, so one bad round never stops the loop.
    """

    name = "loop"

    def __init__(self, *, idle_seconds: float) -> None:
        self._idle_seconds = idle_seconds
        self._bot: Bot | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def wake(self) -> None:
        self._changed.set()

    async def start(self, bot: Bot) -> None:
        if self._task is not None:
            return
        self._bot = bot
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _round(self) -> float:
        """One round of work; returns the seconds to sleep before the next."""
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            sleep = self._idle_seconds
            try:
                sleep = await self._round()
            except Exception:
                log.exception("%s: a round failed; trying again later", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(MIN_SLEEP_SECONDS, sleep))
