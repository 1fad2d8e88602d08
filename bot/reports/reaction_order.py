"""Reaction updates stored in the order Telegram sent them, though handled concurrently.

Each reaction update replaces what was stored (a copy's counts, or one reader's reactions on a
copy), so two updates about the same thing must not commit out of order: updates run side by
side (``concurrent_updates``), and the older one could otherwise commit last and win. Updates
about one thing take turns here, and one older than the newest already stored is passed over.
A process keeps this order for the updates it receives.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

# Things remembered at most: the oldest that nobody is waiting for are forgotten first.
REMEMBERED = 100_000

# When Telegram sent an update: its date, then its id for updates within the same second.
Version = tuple[int, int]


class ReactionOrder:
    """Turns and the newest stored version per copy (or per reader on a copy)."""

    def __init__(self, *, remembered: int = REMEMBERED) -> None:
        self._remembered = remembered
        self._turns: OrderedDict[Hashable, asyncio.Lock] = OrderedDict()
        self._newest: dict[Hashable, Version] = {}

    @asynccontextmanager
    async def turn(self, key: Hashable, version: Version) -> AsyncIterator[bool]:
        """Wait for `key`'s turn; yields whether this update is newer than the one stored.
        The version counts as stored only when the block ends without an error."""
        lock = self._turns.get(key)
        if lock is None:
            lock = self._turns[key] = asyncio.Lock()
            self._forget_oldest()
        self._turns.move_to_end(key)
        async with lock:
            newest = self._newest.get(key)
            newer = newest is None or version > newest
            yield newer
            if newer:
                self._newest[key] = version

    def _forget_oldest(self) -> None:
        while len(self._turns) > self._remembered:
            key, lock = next(iter(self._turns.items()))
            if lock.locked():
                return
            del self._turns[key]
            self._newest.pop(key, None)
