"""Turns at SQLite, one transaction at a time, with readers' taps first.

SQLite has one writer, so the process's transactions take turns (storage/engine.py). A reader
waiting on a toast should not queue behind background rounds (live totals, the workers'
watch, the delivery engine's claims): an urgent transaction takes the next turn before every
other one waiting, and otherwise the turns go in the order they were asked for.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Turns:
    """A lock with two queues: urgent waiters are handed the turn first."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._urgent) + len(self._others)

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Holds the turn for the block."""
        await self._take(urgent=urgent)
        try:
            yield
        finally:
            self._hand_on()

    async def _take(self, *, urgent: bool) -> None:
        if not self._held and not self._urgent and (urgent or not self._others):
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._others
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed the turn just as it was cancelled: pass it on, or nobody gets it.
                self._hand_on()
            else:
                queue.remove(waiter)
            raise

    def _hand_on(self) -> None:
        """The turn goes to the first urgent waiter, else the first other one, else nobody."""
        for queue in (self._urgent, self._others):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._held = False
