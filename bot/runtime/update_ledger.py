"""The ledger of updates taken on: an update delivered twice is handled once.

Telegram delivers an update again when the bot stops before confirming its offset; without the
ledger a repeated vote tap would retract the vote. Each update is recorded before its work is
done, so a replay after a restart is skipped too: taps and reactions in the very transaction
that stores them (`UpdateRecords`, used by the vote and reaction writers), every other update
by `UpdateLedger` (group commit) before any handler runs. A repeat is the same update_id with
the same digest: ids alone are not enough, since they start over after a Bot API server
restart, or at random after a week without updates. Kept: the updates of the last `KEPT_FOR`,
the longest Telegram holds an update for redelivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
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


# An update as the ledger knows it: its id and its digest.
UpdateKey = tuple[int, str]


def digest(identity: str) -> str:
    """16 hex digits standing for what tells an update from another with the same id."""
    return hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()


def tap_identity(callback_query_id: str) -> str:
    return f"callback {callback_query_id}"


def reaction_identity(chat_id: int, message_id: int, date: int, reactor: int | None) -> str:
    # Reactions come in floods: named by what they are about, not serialised whole.
    return f"reaction {chat_id} {message_id} {date} {reactor if reactor is not None else '-'}"


def update_digest(update: Update) -> str:
    """What tells this update from another with the same id: the callback or inline query id,
    the message's chat, id and dates, a reaction's message, date and reactor, or else all of
    its content; 16 hex digits."""
    if (query := update.callback_query) is not None:
        identity = tap_identity(query.id)
    elif (inline := update.inline_query) is not None:
        identity = f"inline {inline.id}"
    elif (message := update.effective_message) is not None:
        edited = message.edit_date.timestamp() if message.edit_date is not None else None
        identity = f"message {message.chat_id} {message.message_id} {message.date} {edited}"
    elif (reacted := update.message_reaction or update.message_reaction_count) is not None:
        user = update.effective_user
        sent = int(reacted.date.timestamp())
        reactor = user.id if user is not None else None
        identity = reaction_identity(reacted.chat.id, reacted.message_id, sent, reactor)
    else:
        identity = update.to_json()
    return digest(identity)


class UpdateRecords:
    """Records updates in the caller's transaction and says which are taken on; every hour,
    one of the calls also forgets the updates older than `KEPT_FOR`. One per bot, shared."""

    def __init__(self) -> None:
        self._pruned_at: float | None = None
        # Updates found to be repeats, wherever they were recorded.
        self.repeats = 0

    async def take_on(self, session: AsyncSession, keys: Sequence[UpdateKey]) -> list[bool]:
        """For each update of a batch, in order: True if it is taken on, False for a repeat.

        New: an id never recorded, or recorded with another digest (its id reused), or before
        `KEPT_FOR`; one row per id. Two copies in one batch: the first is new, the rest are
        repeats; another update with the same id in the same batch is new as well."""
        now = time.monotonic()
        seen_at = utcnow()
        if self._pruned_at is None or now - self._pruned_at >= _PRUNE_EVERY:
            self._pruned_at = now
            await seen_updates.forget_older_than(session, before=seen_at - KEPT_FOR)
        recorded: dict[int, str] = {}
        for update_id, update_digest in keys:
            recorded.setdefault(update_id, update_digest)
        new = await seen_updates.record_new(
            session, updates=recorded, seen_at=seen_at, forget_before=seen_at - KEPT_FOR
        )
        met: set[UpdateKey] = set()
        taken: list[bool] = []
        for key in keys:
            update_id, update_digest = key
            first = recorded[update_id] != update_digest or update_id in new
            taken.append(first and key not in met)
            met.add(key)
        self.repeats += taken.count(False)
        return taken


class UpdateLedger(BatchingLoop):
    """Records updates in batches; `first_time` says whether an update is new."""

    name = "update-ledger"

    def __init__(
        self, db: Database, records: UpdateRecords, *, gather_seconds: float = GATHER_SECONDS
    ) -> None:
        super().__init__(gather_seconds=gather_seconds)
        self._db = db
        self._records = records
        self._waiting: list[tuple[UpdateKey, asyncio.Future[bool]]] = []

    @property
    def skipped(self) -> int:
        """Updates skipped as repeats, by this ledger or with a tap or reaction."""
        return self._records.repeats

    async def first_time(self, update_id: int, digest: str) -> bool:
        """True the first time this update (id and digest) is recorded, False for a repeat."""
        if not self.running:
            raise RuntimeError("the update ledger is not running")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(((update_id, digest), future))
        self.wake()
        return await future

    async def _commit(self) -> None:
        if self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                keys = [key for key, _ in batch]

                async def record(session: AsyncSession) -> list[bool]:
                    return await self._records.take_on(session, keys)

                taken = await write_retrying(self._db, record)
            except Exception as error:  # every waiting update must hear of it
                log.exception("%d update ids were not recorded", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                return
            for (_, future), first in zip(batch, taken, strict=True):
                if not future.done():
                    future.set_result(first)
