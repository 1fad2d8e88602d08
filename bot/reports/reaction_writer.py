"""Reaction updates stored in batches, in the order Telegram sent them.

Every reaction update replaces what was stored before it: a copy's counts, or one reader's
reactions on a copy. So among the updates about one thing only the newest matters. The single
writer gathers the updates of a short while, keeps the newest per thing, passes over any older
than the newest already stored (updates are handled concurrently and may arrive late), and
stores the rest in one transaction: a flood of reactions costs the database a few commits a
second, and taps waiting for their own commits are not held up.

An update acknowledged is an update stored (or superseded by a newer one stored with it):
``submit`` returns after the commit. A batch that fails stores nothing and counts nothing as
stored, so the updates' retries are taken. The newest versions are remembered for a bounded
number of things, the least recently changed forgotten first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.background import BatchingLoop
from storage.engine import Database

log = logging.getLogger(__name__)

# Reactions are not waited on by a reader: a longer gathering buys fewer commits.
GATHER_SECONDS = 0.05
# Things whose newest version is remembered at most.
REMEMBERED = 100_000

# When Telegram sent an update: its date, then its id for updates within the same second.
Version = tuple[int, int]
# Stores one update's reactions in the batch's session; says whether it was one of our copies.
Store = Callable[[AsyncSession], Awaitable[bool]]


class Outcome(StrEnum):
    STORED = "stored"
    NOT_A_COPY = "not_a_copy"  # the message is no copy of an article: nothing to store
    PASSED_OVER = "passed_over"  # an update older than one already stored


@dataclass
class _Pending:
    version: Version
    store: Store
    # Every update about this thing waiting for the batch: the newest one's outcome is theirs.
    waiting: list[tuple[Version, asyncio.Future[Outcome]]] = field(default_factory=list)


class ReactionWriter(BatchingLoop):
    """The single writer of reaction updates; start it before updates arrive and stop it at
    shutdown (which stores the updates already submitted first)."""

    name = "reaction-writer"

    def __init__(
        self,
        db: Database,
        *,
        gather_seconds: float = GATHER_SECONDS,
        remembered: int = REMEMBERED,
    ) -> None:
        super().__init__(gather_seconds=gather_seconds)
        self._db = db
        self._remembered = remembered
        self._pending: dict[Hashable, _Pending] = {}
        self._newest: OrderedDict[Hashable, Version] = OrderedDict()

    async def submit(self, key: Hashable, version: Version, store: Store) -> Outcome:
        """Store the update about `key` sent at `version` in the next batch, unless a newer one
        about it is stored first; returns after the commit."""
        if not self.running:
            raise RuntimeError("the reaction writer is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(version, store)
        elif version > pending.version:
            pending.version, pending.store = version, store
        pending.waiting.append((version, future))
        self.wake()
        return await future

    async def _commit(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                outcomes = await self._write(batch)
            except Exception as error:  # every waiting update must hear of it
                log.exception("a batch of %d reaction updates was not stored", len(batch))
                for pending in batch.values():
                    for _, future in pending.waiting:
                        if not future.done():
                            future.set_exception(error)
                continue
            for key, pending in batch.items():
                for version, future in pending.waiting:
                    if future.done():
                        continue
                    late = outcomes[key] is Outcome.PASSED_OVER or version < pending.version
                    future.set_result(Outcome.PASSED_OVER if late else outcomes[key])

    async def _write(self, batch: dict[Hashable, _Pending]) -> dict[Hashable, Outcome]:
        outcomes: dict[Hashable, Outcome] = {}
        async with self._db.transaction() as session:
            for key, pending in batch.items():
                newest = self._newest.get(key)
                if newest is not None and pending.version <= newest:
                    outcomes[key] = Outcome.PASSED_OVER
                    continue
                stored = await pending.store(session)
                outcomes[key] = Outcome.STORED if stored else Outcome.NOT_A_COPY
        # Counted as stored only once committed.
        for key, pending in batch.items():
            if outcomes[key] is not Outcome.PASSED_OVER:
                self._newest[key] = pending.version
                self._newest.move_to_end(key)
        while len(self._newest) > self._remembered:
            self._newest.popitem(last=False)
        return outcomes
