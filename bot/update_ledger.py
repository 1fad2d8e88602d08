"""The ledger of updates taken on: an update delivered twice (same update_id) is handled once.

Telegram delivers an update again when the bot stops before confirming its offset; without the
ledger a repeated vote tap would retract the vote. Ids are recorded (group commit, like votes)
before any handler runs, so a replay after a restart is skipped too. Kept: a window of recent ids.
"""

from __future__ import annotations

import asyncio
import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from storage import seen_updates
from storage.engine import Database
from storage.retry import write_retrying

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.002  # how long the first update of a batch waits for company
WINDOW = 100_000  # ids kept; Telegram redelivers only updates from the last day at most
_PRUNE_EVERY = 1000  # batches between sweeps of old ids


class UpdateLedger:
    """Records update ids in batches; `first_time` says whether an id is new."""

    def __init__(self, db: Database, *, gather_seconds: float = GATHER_SECONDS) -> None:
        self._db = db
        self._gather = gather_seconds
        self._waiting: dict[int, list[asyncio.Future[bool]]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._batches = 0
        self.skipped = 0

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="update-ledger")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def first_time(self, update_id: int) -> bool:
        """True the first time this update id is recorded, False for a repeat."""
        if self._task is None or self._stopping:
            raise RuntimeError("the update ledger is not running")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(update_id, []).append(future)
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._gather > 0 and not self._stopping:
                await asyncio.sleep(self._gather)
            if self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    await self._write(batch)
                except Exception as error:  # every waiting update must hear of it
                    log.exception("%d update ids were not recorded", len(batch))
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
            if self._stopping and not self._waiting:
                return

    async def _write(self, batch: dict[int, list[asyncio.Future[bool]]]) -> None:
        self._batches += 1
        prune = self._batches % _PRUNE_EVERY == 0

        async def record(session: AsyncSession) -> set[int]:
            new = await seen_updates.record_new(session, update_ids=batch.keys())
            if prune:
                await seen_updates.forget_older_than(session, keep=WINDOW)
            return new

        new = await write_retrying(self._db, record)
        for update_id, futures in batch.items():
            # Two copies in one batch: the first is new, the rest are repeats.
            for index, future in enumerate(futures):
                if not future.done():
                    future.set_result(update_id in new and index == 0)


async def skip_repeats(update: Update, context: BotContext) -> None:
    """First handler of all: an update already taken on stops here, logged, changing nothing."""
    ledger = context.services.updates_seen
    try:
        new = await ledger.first_time(update.update_id)
    except Exception:
        # Better to handle an update twice than to drop it: the handlers are idempotent-ish.
        log.exception("could not record update %s; handling it anyway", update.update_id)
        return
    if not new:
        ledger.skipped += 1
        log.info("update %s was delivered again; skipped", update.update_id)
        raise ApplicationHandlerStop
