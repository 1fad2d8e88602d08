"""The delivery engine: claims due rows of the ledger, sends them, and records what happened.

One loop claims batches of the oldest due deliveries ('pending' -> 'sending'), starts one task
per row (the SendLimiter inside python-telegram-bot paces the actual sends), and records the
outcomes of finished tasks in short batched transactions. At most `MAX_UNRECORDED_SENDS` rows
are claimed and not yet recorded at any time: that is the most a crash can make us send twice.

Errors, classified by `bot.telegram_errors`:
- 429 that escaped the limiter: the row waits `retry_after` and is retried (never dropped);
- blocked, kicked, chat not found: the chat stops receiving pushes, the row fails with reason;
- group upgraded to supergroup: the chat (and its deliveries) move to the new id, then retry;
- timeouts and network errors: retried with exponential backoff, `MAX_ATTEMPTS` times in all;
- can't parse entities: retried once at once as plain text, and logged as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.delivery.senders import ItemSender
from bot.telegram_errors import Failure, classify, migrated_to, retry_after_seconds
from storage import chats, deliveries
from storage.deliveries import ClaimedDelivery, EndedRow, RetryRow, SentRow
from storage.engine import Database
from storage.models import DeliveryKind, DeliveryStatus, StopReason
from storage.types import utcnow

log = logging.getLogger(__name__)

# Rows claimed but not yet recorded, at most: the duplicate bound after a crash.
MAX_UNRECORDED_SENDS = 64
# Rows claimed in one statement; a claim waits until this many slots are free.
CLAIM_BATCH = 32
# Sends of one row in all (every claim counts) before a network failure is final.
MAX_ATTEMPTS = 5
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
# With nothing to do the engine still looks for rows whose retry time has come.
IDLE_POLL_SECONDS = 1.0
# Finished sends are gathered this long so one transaction records many.
RECORD_GATHER_SECONDS = 0.05
# On stop, sends already under way get this long to finish and be recorded.
STOP_GRACE_SECONDS = 2.0

_STOP_REASONS = {
    Failure.BLOCKED: StopReason.BLOCKED,
    Failure.KICKED: StopReason.KICKED,
    Failure.CHAT_NOT_FOUND: StopReason.CHAT_NOT_FOUND,
}


@dataclass(frozen=True)
class _Sent:
    row: ClaimedDelivery
    message_id: int


@dataclass(frozen=True)
class _Ended:
    row: ClaimedDelivery
    failure: Failure
    error: str
    stop: StopReason | None = None


@dataclass(frozen=True)
class _Retry:
    row: ClaimedDelivery
    after_seconds: float
    failure: Failure
    error: str


@dataclass(frozen=True)
class _Migrated:
    row: ClaimedDelivery
    new_chat_id: int


_Outcome = _Sent | _Ended | _Retry | _Migrated


def backoff_seconds(attempts: int) -> float:
    """The wait before try number `attempts + 1` after a network failure: 1, 2, 4, ... 60 s."""
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


class DeliveryEngine:
    """Sends every queued delivery once, as fast as the SendLimiter lets it, across restarts."""

    def __init__(
        self,
        db: Database,
        *,
        max_unrecorded: int = MAX_UNRECORDED_SENDS,
        claim_batch: int = CLAIM_BATCH,
    ) -> None:
        self._db = db
        self._max_unrecorded = max_unrecorded
        self._claim_batch = min(claim_batch, max_unrecorded)
        self._senders: dict[DeliveryKind, ItemSender] = {}
        self._bot: Bot | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._outcomes: list[_Outcome] = []
        self._unrecorded = 0
        self._changed = asyncio.Event()
        self._stopping = False
        self.sent_total = 0
        # With several bot processes, whether this one may claim now (bot/workers.py decides)
        # and the name its claims carry.
        self.may_claim: Callable[[], bool] = lambda: True
        self.claimer: str | None = None

    def register(self, kind: DeliveryKind, sender: ItemSender) -> None:
        """The sender for one kind of item (build_application registers each)."""
        self._senders[kind] = sender

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    def wake(self) -> None:
        """Look for new rows now (call after queuing), instead of at the next idle poll."""
        self._changed.set()

    async def start(self, bot: Bot, *, keep_live_claims: bool = False) -> None:
        """Put rows a dead process left in flight back to pending, then start sending.

        `keep_live_claims` when other live processes may be sending some of those rows now.
        """
        if self.running:
            return
        async with self._db.transaction() as session:
            released = await deliveries.release_in_flight(
                session, keep_live_claims=keep_live_claims
            )
        if released:
            log.warning(
                "%s deliveries were in flight when the bot stopped: sending again", released
            )
        self._bot = bot
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name="delivery-engine")

    async def stop(self) -> None:
        """Stop claiming; let sends under way finish briefly, record them, cancel the rest."""
        if self._loop_task is None:
            return
        self._stopping = True
        self._changed.set()
        if self._sends:
            await asyncio.wait(set(self._sends), timeout=STOP_GRACE_SECONDS)
        for task in list(self._sends):
            task.cancel()
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        self._loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task
        self._loop_task = None
        # Rows of cancelled sends stay 'sending' and go back to pending at the next start.
        with contextlib.suppress(Exception):
            await self._record()

    async def _run(self) -> None:
        while not self._stopping:
            self._changed.clear()
            try:
                await self._record()
                claimed = await self._claim()
            except Exception:
                # The database may be busy or briefly gone: the rows wait, the engine goes on.
                log.exception("delivery engine: recording or claiming failed; retrying")
                claimed = 0
                await asyncio.sleep(IDLE_POLL_SECONDS)
            if claimed == self._claim_batch and self._free() >= self._claim_batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), IDLE_POLL_SECONDS)
            if self._outcomes:
                await asyncio.sleep(RECORD_GATHER_SECONDS)

    def _free(self) -> int:
        return self._max_unrecorded - self._unrecorded

    async def _claim(self) -> int:
        if self._free() < self._claim_batch or not self.may_claim():
            return 0
        async with self._db.transaction() as session:
            rows = await deliveries.claim_due(
                session, limit=self._claim_batch, claimer=self.claimer
            )
        self._unrecorded += len(rows)
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
        return len(rows)

    async def _deliver(self, row: ClaimedDelivery) -> None:
        outcome: _Outcome
        try:
            outcome = await self._send(row)
        except Exception as error:
            log.exception("delivery %s to chat %s failed unexpectedly", row.id, row.chat_id)
            outcome = _Ended(row, Failure.OTHER, repr(error))
        self._outcomes.append(outcome)
        self._changed.set()

    async def _send(self, row: ClaimedDelivery) -> _Outcome:
        sender = self._senders.get(row.kind)
        if sender is None or self._bot is None:
            return _Ended(row, Failure.OTHER, f"no sender for {row.kind} deliveries")
        try:
            message_id = await sender.send(
                self._bot, chat_id=row.chat_id, item_id=row.item_id, plain=False
            )
        except TelegramError as error:
            if classify(error) is not Failure.BAD_MARKUP:
                return self._outcome_of_error(row, error)
            log.error(
                "%s %s: Telegram could not parse its markup (%s); sending as plain text to %s",
                row.kind,
                row.item_id,
                error.message,
                row.chat_id,
            )
            try:
                message_id = await sender.send(
                    self._bot, chat_id=row.chat_id, item_id=row.item_id, plain=True
                )
            except TelegramError as plain_error:
                return self._outcome_of_error(row, plain_error)
        return _Sent(row, message_id)

    def _outcome_of_error(self, row: ClaimedDelivery, error: TelegramError) -> _Outcome:
        failure = classify(error)
        text = error.message
        if failure is Failure.FLOOD:
            return _Retry(row, retry_after_seconds(error) or 1.0, failure, text)
        if failure is Failure.MIGRATED and (new_id := migrated_to(error)) is not None:
            return _Migrated(row, new_id)
        if failure in _STOP_REASONS:
            log.info("chat %s unreachable (%s): pushes stop", row.chat_id, text)
            return _Ended(row, failure, text, stop=_STOP_REASONS[failure])
        if failure is Failure.TRANSIENT and row.attempts < MAX_ATTEMPTS:
            return _Retry(row, backoff_seconds(row.attempts), failure, text)
        log.warning("delivery %s to chat %s failed: %s", row.id, row.chat_id, text)
        return _Ended(row, failure, text)

    async def _record(self) -> None:
        """Write every finished send's outcome in one transaction."""
        if not self._outcomes:
            return
        outcomes = list(self._outcomes)
        now = utcnow()
        async with self._db.transaction() as session:
            sent = [o for o in outcomes if isinstance(o, _Sent)]
            await deliveries.mark_sent(
                session, rows=[SentRow(o.row.id, o.message_id) for o in sent]
            )
            for sent_one in sent:
                await self._after_sent(session, sent_one)
            ended = [o for o in outcomes if isinstance(o, _Ended)]
            await deliveries.end_rows(
                session,
                rows=[
                    EndedRow(o.row.id, DeliveryStatus.FAILED, o.failure, o.error) for o in ended
                ],
            )
            for end in ended:
                if end.stop is not None:
                    await chats.mark_chat_stopped(
                        session, chat_id=end.row.chat_id, reason=end.stop
                    )
            retries = [
                RetryRow(o.row.id, now + timedelta(seconds=o.after_seconds), o.failure, o.error)
                for o in outcomes
                if isinstance(o, _Retry)
            ]
            for outcome in outcomes:
                if isinstance(outcome, _Migrated):
                    # Moves this row (and the chat's others) to the new id; it is then due again.
                    await chats.migrate_chat(
                        session, old_id=outcome.row.chat_id, new_id=outcome.new_chat_id
                    )
                    retries.append(RetryRow(outcome.row.id, now, Failure.MIGRATED))
            await deliveries.retry_rows(session, rows=retries)
        del self._outcomes[: len(outcomes)]
        self._unrecorded -= len(outcomes)
        self.sent_total += len(sent)

    async def _after_sent(self, session: AsyncSession, outcome: _Sent) -> None:
        sender = self._senders.get(outcome.row.kind)
        if sender is None:
            return
        try:
            # A savepoint: a failing follow-up must not undo the record of the send itself.
            async with session.begin_nested():
                await sender.after_sent(
                    session,
                    chat_id=outcome.row.chat_id,
                    item_id=outcome.row.item_id,
                    message_id=outcome.message_id,
                )
        except Exception:
            log.exception("recording what delivery %s created failed", outcome.row.id)
