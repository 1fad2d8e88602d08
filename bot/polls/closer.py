"""Closing polls on time: a poll whose ``closes_at`` has come is closed (at start too, for any
that fell due while the bot was down), and every message showing it gets its final results."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.polls.book import PollBook
from bot.polls.live_totals import LiveTotals
from storage import polls
from storage.engine import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds; also how late a poll may close at most


class PollCloser:
    """Looks for due polls every ``check_every`` seconds; start at startup, stop at shutdown."""

    def __init__(
        self,
        *,
        db: Database,
        book: PollBook,
        live_totals: LiveTotals,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self._db = db
        self._book = book
        self._live_totals = live_totals
        self._check_every = check_every
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.close_due()
        self._task = asyncio.create_task(self._run(), name="poll-closer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close_due(self) -> list[int]:
        """Close every open poll whose time has come; return their ids."""
        async with self._db.transaction() as session:
            due = await polls.polls_due_to_close(session, now=utcnow())
        closed = [poll_id for poll_id in due if await self._book.close(poll_id)]
        for poll_id in closed:
            log.info("poll %s closed on time", poll_id)
            self._live_totals.poll_changed(poll_id)
        return closed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            try:
                await self.close_due()
            except Exception:
                log.exception("closing due polls failed; trying again shortly")
