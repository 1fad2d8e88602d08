"""Reaction updates stored in batches, in the order Telegram sent them.

Every reaction update replaces what was stored before it: a copy's counts, or one reader's
reactions on a copy. So among the updates about one thing only the newest matters. The single
writer gathers the updates of a short while, keeps the newest per thing, passes over any older
than the newest already stored (updates are handled concurrently and may arrive late), and
stores the rest in one transaction: a flood of reactions costs the database a few commits a
second, and taps waiting for their own commits are not held up.

Each update is recorded in the update ledger in the same transaction; one taken on before
(Telegram delivering it again) is told so, and stores nothing newer than before.

An update acknowledged is an update stored (or superseded by a newer one stored with it):
the future ``offer`` returns is done after the commit. A batch that fails stores nothing and
counts nothing as stored, so the updates' retries are taken. The newest versions are
remembered for a bounded number of things, the least recently changed forgotten first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.background import BatchingLoop
from bot.runtime.update_ledger import UpdateKey, UpdateRecords
from storage.engine import Database

log = logging.getLogger(__name__)

# Reactions are not waited on by a reader: a longer gathering buys fewer, larger batches, and
# each batch holds SQLite's one writer (and the taps waiting for it) for about the same time.
GATHER_SECONDS = 0.5
# Things whose newest version is remembered at most.
REMEMBERED = 100_000

# When Telegram sent an update: its date, then its id for updates within the same second.
Version = tuple[int, int]


@dataclass(frozen=True)
class Batched:
    """An update stored together with the batch's others of the same `store_all`: one set of
    statements for all of them (a flood of count updates costs a few statements a batch)."""

    store_all: Callable[[AsyncSession, list[Any]], Awaitable[list[bool]]]
    item: Any


# Stores one update's reactions in the batch's session (alone, or `Batched` with others); says
# whether it was one of our copies.
Store = Callable[[AsyncSession], Awaitable[bool]] | Batched


class Outcome(StrEnum):
    STORED = "stored"
    NOT_A_COPY = "not_a_copy"  # the message is no copy of an article: nothing to store
    PASSED_OVER = "passed_over"  # an update older than one already stored
    REPEATED = "repeated"  # the update was taken on before


@dataclass
class _Pending:
    version: Version
    store: Store
    # The update of the newest version: when it is a repeat, it was stored before and the
    # older ones waiting with it are older still.
    update: UpdateKey | None
    # Every update about this thing waiting for the batch: the newest one's outcome is theirs.
    waiting: list[tuple[Version, UpdateKey | None, asyncio.Future[Outcome]]] = field(
        default_factory=list
    )


class ReactionWriter(BatchingLoop):
    """The single writer of reaction updates; start it before updates arrive and stop it at
    shutdown (which stores the updates already submitted first)."""

    name = "reaction-writer"

    def __init__(
        self,
        db: Database,
        *,
        records: UpdateRecords | None = None,
        gather_seconds: float = GATHER_SECONDS,
        remembered: int = REMEMBERED,
    ) -> None:
        super().__init__(gather_seconds=gather_seconds)
        self._db = db
        self._records = records or UpdateRecords()
        self._remembered = remembered
        self._pending: dict[Hashable, _Pending] = {}
        self._newest: OrderedDict[Hashable, Version] = OrderedDict()

    def offer(
        self, key: Hashable, version: Version, store: Store, *, update: UpdateKey | None = None
    ) -> asyncio.Future[Outcome]:
        """Store the update about `key` sent at `version` in the next batch, unless a newer one
        about it is stored first; `update` is recorded with it. The future is done once the
        batch is committed."""
        if not self.running:
            raise RuntimeError("the reaction writer is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(version, store, update)
        elif version > pending.version:
            pending.version, pending.store, pending.update = version, store, update
        pending.waiting.append((version, update, future))
        self.wake()
        return future

    async def _commit(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                outcomes = await self._write(batch)
            except Exception as error:  # every waiting update must hear of it
                log.exception("a batch of %d reaction updates was not stored", len(batch))
                for pending in batch.values():
                    for _, _, future in pending.waiting:
                        if not future.done():
                            future.set_exception(error)
                continue
            for key, pending in batch.items():
                for version, _, future in pending.waiting:
                    if future.done():
                        continue
                    late = outcomes[key] is Outcome.PASSED_OVER or version < pending.version
                    future.set_result(Outcome.PASSED_OVER if late else outcomes[key])

    async def _record_updates(
        self, session: AsyncSession, batch: dict[Hashable, _Pending]
    ) -> tuple[list[asyncio.Future[Outcome]], set[UpdateKey]]:
        """Record the batch's updates in the ledger; the repeats' futures, and their updates."""
        keyed = [
            (update, future)
            for pending in batch.values()
            for _, update, future in pending.waiting
            if update is not None
        ]
        repeats: list[asyncio.Future[Outcome]] = []
        repeated: set[UpdateKey] = set()
        if keyed:
            taken = await self._records.take_on(session, [update for update, _ in keyed])
            for (update, future), new in zip(keyed, taken, strict=True):
                if not new:
                    repeats.append(future)
                    repeated.add(update)
        return repeats, repeated

    async def _write(self, batch: dict[Hashable, _Pending]) -> dict[Hashable, Outcome]:
        outcomes: dict[Hashable, Outcome] = {}
        async with self._db.transaction() as session:
            repeats, repeated = await self._record_updates(session, batch)
            together: dict[Any, list[tuple[Hashable, Any]]] = {}
            for key, pending in batch.items():
                newest = self._newest.get(key)
                store = pending.store
                if pending.update in repeated or (
                    newest is not None and pending.version <= newest
                ):
                    outcomes[key] = Outcome.PASSED_OVER
                elif isinstance(store, Batched):
                    together.setdefault(store.store_all, []).append((key, store.item))
                else:
                    outcomes[key] = Outcome.STORED if await store(session) else Outcome.NOT_A_COPY
            for store_all, items in together.items():
                stored = await store_all(session, [item for _, item in items])
                for (key, _), ours in zip(items, stored, strict=True):
                    outcomes[key] = Outcome.STORED if ours else Outcome.NOT_A_COPY
        # Counted as stored only once committed.
        for future in repeats:
            future.set_result(Outcome.REPEATED)
        for key, pending in batch.items():
            if outcomes[key] is not Outcome.PASSED_OVER:
                self._newest[key] = pending.version
                self._newest.move_to_end(key)
        while len(self._newest) > self._remembered:
            self._newest.popitem(last=False)
        return outcomes
