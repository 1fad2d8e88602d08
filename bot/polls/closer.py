"""Closing polls on time: a poll whose ``closes_at`` has come is closed (at start too, for any
that fell due while the bot was down), every message showing it gets its final results, and the
admins and channel copies get its final results chart (bot/polls/final_results.py)."""

from __future__ import annotations

import logging

from bot.polls.book import PollBook
from bot.polls.final_results import FinalResults
from bot.polls.live_totals import LiveTotals
from bot.runtime.background import BackgroundLoop
from storage import polls
from storage.engine import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds; also how late a poll may close at most


class PollCloser(BackgroundLoop):
    """Looks for due polls every ``check_every`` seconds, the first time as it starts."""

    name = "poll-closer"
    failure = "closing due polls failed; trying again shortly"

    def __init__(
        self,
        *,
        db: Database,
        book: PollBook,
        live_totals: LiveTotals,
        final_results: FinalResults,
        check_every: float = CHECK_EVERY,
    ) -> None:
        super().__init__(idle_seconds=check_every)
        self._db = db
        self._book = book
        self._live_totals = live_totals
        self._final_results = final_results
        self._check_every = check_every

    async def _begin(self) -> float:
        # Polls that fell due while the bot was down close as it starts, not a round later.
        return await self._round()

    async def _round(self) -> float:
        await self.close_due()
        return self._check_every

    async def close_due(self) -> list[int]:
        """Close every open poll whose time has come; return their ids."""
        async with self._db.transaction() as session:
            due = await polls.polls_due_to_close(session, now=utcnow())
        closed = [poll_id for poll_id in due if await self._book.close(poll_id)]
        for poll_id in closed:
            log.info("poll %s closed on time", poll_id)
            self._live_totals.poll_changed(poll_id)
        for poll_id in closed:
            await self._final_results.poll_closed(poll_id)
        return closed
