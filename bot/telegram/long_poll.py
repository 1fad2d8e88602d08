"""A pause between polls when getUpdates answers at once with nothing.

A long poll that comes back empty long before its timeout did not wait at all (a misbehaving
Bot API server, a proxy); asking again at once would spin, hundreds of calls a second. After
such an answer the next ask waits a moment, growing with each one in a row and bounded; any
update, or a poll that really waited, ends the pause.
"""

from __future__ import annotations

import asyncio
import logging

from bot.runtime.backoff import Backoff

log = logging.getLogger(__name__)

# An empty answer this much faster than the long-poll timeout did not wait.
QUICK_FRACTION = 0.5
PAUSES = Backoff(first=0.25, longest=5.0)


class PollPause:
    """Counts quick empty answers in a row and sleeps after each, longer each time."""

    def __init__(self, pauses: Backoff = PAUSES) -> None:
        self._pauses = pauses
        self.quick_empty = 0

    async def after_poll(self, *, updates: int, waited: float, timeout: float) -> None:
        """Called after every getUpdates answer: sleeps when it was quick and empty."""
        if updates or timeout <= 0 or waited >= timeout * QUICK_FRACTION:
            if self.quick_empty:
                log.info("getUpdates waits again after %d quick empty answers", self.quick_empty)
            self.quick_empty = 0
            return
        self.quick_empty += 1
        pause = self._pauses.wait(self.quick_empty)
        if self.quick_empty == 1:
            log.warning(
                "getUpdates answered at once with nothing (long poll of %gs); pausing between "
                "polls, up to %gs",
                timeout,
                self._pauses.longest,
            )
        await asyncio.sleep(pause)
