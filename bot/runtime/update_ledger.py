"""The ledger of updates taken on: an update delivered twice is handled once.

Telegram delivers an update again when the bot stops before confirming its offset; without the
ledger a repeated vote tap would retract the vote. Each update is recorded (group commit, like
votes) before any handler runs, so a replay after a restart is skipped too. A repeat is the same
update_id with the same digest (`update_digest`): ids alone are not enough, since they start
over after a Bot API server restart, or at random after a week without updates. Kept: the
updates of the last `KEPT_FOR`, the longest Telegram holds an update for redelivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from bot.runtime.background import BatchingLoop
from storage import seen_updates
from storage.engine import Database
from storage.retry import write_retrying
from storage.types import utcnow

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.002  # how long the first update of a batch waits for company
KEPT_FOR = timedelta(hours=24)  # Telegram keeps an unconfirmed update this long at most
_PRUNE_EVERY = 3600.0  # seconds between sweeps of updates older than KEPT_FOR


def update_digest(update: Update) -> str:
    """What tells this update from another with the same id: the callback or inline query id,
    the message's chat, id and dates, a reaction's message, date and reactor, or else all of
    its content; 16 hex digits."""
    if (query := update.callback_query) is not None:
        identity = f"callback {query.id}"
    elif (inline := update.inline_query) is not None:
        identity = f"inline {inline.id}"
    elif (message := update.effective_message) is not None:
        edited = message.edit_date.timestamp() if message.edit_date is not None else None
        identity = f"message {message.chat_id} {message.message_id} {message.date} {edited}"
    elif (reacted := update.message_reaction or update.message_reaction_count) is not None:
        # Reactions come in floods: named by what they are about, not serialised whole.
        user = update.effective_user
        identity = (
            f"reaction {reacted.chat.id} {reacted.message_id} {reacted.date} "
            f"{user.id if user else '-'}"
        )
    else:
        identity = update.to_json()
    return hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()


class UpdateLedger(BatchingLoop):
    """Records updates in batches; `first_time` says whether an update is new."""

    name = "update-ledger"

    def __init__(self, db: Database, *, gather_seconds: float = GATHER_SECONDS) -> None:
        super().__init__(gather_seconds=gather_seconds)
        self._db = db
        self._waiting: dict[tuple[int, str], list[asyncio.Future[bool]]] = {}
        self._pruned_at: float | None = None
        self.skipped = 0

    async def first_time(self, update_id: int, digest: str) -> bool:
        """True the first time this update (id and digest) is recorded, False for a repeat."""
        if not self.running:
            raise RuntimeError("the update ledger is not running")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((update_id, digest), []).append(future)
        self.wake()
        return await future

    async def _commit(self) -> None:
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

    async def _write(self, batch: dict[tuple[int, str], list[asyncio.Future[bool]]]) -> None:
        now = time.monotonic()
        prune = self._pruned_at is None or now - self._pruned_at >= _PRUNE_EVERY
        if prune:
            self._pruned_at = now
        # One row per id; another update with the same id in the same batch is new as well.
        recorded: dict[int, str] = {}
        for update_id, digest in batch:
            recorded.setdefault(update_id, digest)
        seen_at = utcnow()

        async def record(session: AsyncSession) -> set[int]:
            if prune:
                await seen_updates.forget_older_than(session, before=seen_at - KEPT_FOR)
            return await seen_updates.record_new(
                session, updates=recorded, seen_at=seen_at, forget_before=seen_at - KEPT_FOR
            )

        new = await write_retrying(self._db, record)
        for (update_id, digest), futures in batch.items():
            first = recorded[update_id] != digest or update_id in new
            # Two copies in one batch: the first is new, the rest are repeats.
            for index, future in enumerate(futures):
                if not future.done():
                    future.set_result(first and index == 0)
