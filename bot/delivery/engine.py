"""The delivery engine: claims due rows of the ledger, sends them, and records what happened.

One loop claims batches of the oldest due deliveries ('pending' -> 'sending'), starts one task
per row (the SendLimiter inside python-telegram-bot paces the actual sends), and records the
outcomes of finished tasks; recording finished sends and claiming the next batch share one short
transaction. At most a window of rows is claimed and not yet recorded at any time: about one
second of sends at the rate the engine achieves, never fewer than `MIN_UNRECORDED_SENDS` and
never more than `MAX_UNRECORDED_SENDS`, which is the most a crash can make us send twice.
Article cards and broadcasts claimed for a chat inside its quiet hours go back to pending, due
when they end, in the claim's transaction (`bot.delivery.quiet_hours`); they are never sent then.

Errors, classified by `bot.telegram.errors`:
- 429 that escaped the limiter: the row waits `retry_after` and is retried (never dropped);
- blocked, kicked, chat not found: the chat stops receiving pushes, the row fails with reason;
- forum topic closed or deleted: that topic's subscription ends (never the whole chat), the
  row fails with that reason;
- group upgraded to supergroup: the chat (and its deliveries) move to the new id, then retry;
- timeouts and network errors: retried with exponential backoff, `MAX_ATTEMPTS` times in all;
- can't parse entities: retried once at once as plain text, and logged as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.delivery.quiet_hours import QuietHours
from bot.delivery.senders import ItemSender
from bot.runtime.background import BackgroundLoop
from bot.telegram.errors import Failure, classify, migrated_to, retry_after_seconds
from storage import chats, deliveries, forum_topics
from storage.deliveries import ClaimedDelivery, EndedRow, RetryRow, SentRow
from storage.engine import Database
from storage.models import DeliveryKind, DeliveryStatus, StopReason
from storage.types import utcnow

log = logging.getLogger(__name__)

# Rows claimed but not yet recorded, at most: the duplicate bound after a crash. Enough for
# paid broadcasts (1000/s) while each send takes up to about half a second to be answered.
MAX_UNRECORDED_SENDS = 512
# The window never shrinks below this: at ordinary rates (25/s) the engine keeps no more, so
# /cancel and a crash overshoot by a few seconds of sends at most.
MIN_UNRECORDED_SENDS = 64
# The window holds the sends recorded in the last this many seconds. It only grows while sends
# take less than this from claim to record, which they do unless Telegram itself is that slow;
# a rate the limiter paces then keeps it at this much of its own pace.
WINDOW_SECONDS = 1.0
# How often the window is sized again.
RESIZE_EVERY_SECONDS = 0.25
# A claim waits until this share of the window is free, so one statement claims many rows.
CLAIM_SHARE = 4
# Sends of one row in all (every claim counts) before a network failure is final.
MAX_ATTEMPTS = 5
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
# With nothing to do the engine still looks for rows whose retry time has come.
IDLE_POLL_SECONDS = 1.0
# Finished sends are gathered this long, when no claim is due, so one transaction records many.
RECORD_GATHER_SECONDS = 0.05
# On stop, sends already under way get this long to finish and be recorded.
STOP_GRACE_SECONDS = 2.0

# Why a chat stops receiving pushes after a failure that says it cannot be reached.
STOP_REASONS = {
    Failure.BLOCKED: StopReason.BLOCKED,
    Failure.KICKED: StopReason.KICKED,
    Failure.CHAT_NOT_FOUND: StopReason.CHAT_NOT_FOUND,
}
# Failures that end one forum topic's subscription and leave its chat receiving.
_TOPIC_STOP_REASONS = {
    Failure.TOPIC_CLOSED: StopReason.TOPIC_CLOSED,
    Failure.TOPIC_DELETED: StopReason.TOPIC_DELETED,
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
    # Set when the row's forum topic (not its chat) can receive nothing more.
    topic_stop: StopReason | None = None


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


class DeliveryEngine(BackgroundLoop):
    """Sends every queued delivery once, as fast as the SendLimiter lets it, across restarts.

    With several bot processes, `may_claim` says whether this one may claim now and `claimer`
    is the name its claims carry (bot/runtime/workers.py decides both); `keep_live_claims`
    when other live processes may be sending rows left in flight (the workers sweep those).
    """

    name = "delivery-engine"
    # Stopping lets the round under way end (never cancelled mid-transaction) and claims no more.
    finishes_on_stop = True

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        may_claim: Callable[[], bool] = lambda: True,
        claimer: str | None = None,
        keep_live_claims: bool = False,
        max_unrecorded: int = MAX_UNRECORDED_SENDS,
        min_unrecorded: int = MIN_UNRECORDED_SENDS,
        zone: ZoneInfo | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(idle_seconds=IDLE_POLL_SECONDS)
        self._db = db
        self._bot = bot
        # Chats' quiet hours are read in their own zones, or this one (the bot's TIMEZONE).
        self.quiet_hours = QuietHours(zone or ZoneInfo("UTC"))
        # What "now" is for due rows, retries and quiet hours (tests move it).
        self._clock = clock
        self._may_claim = may_claim
        self._claimer = claimer
        self._keep_live_claims = keep_live_claims
        self._max_unrecorded = max_unrecorded
        self._min_unrecorded = min(min_unrecorded, max_unrecorded)
        self._window = self._min_unrecorded
        self._senders: dict[DeliveryKind, ItemSender] = {}
        self._sends: set[asyncio.Task[None]] = set()
        self._outcomes: list[_Outcome] = []
        self._unrecorded = 0
        # Whether the last claim got every row it asked for (more may be due at once).
        self._more_due = False
        self._started_at = 0.0
        self._resized_at = 0.0
        # (when, how many) per recording transaction, over the last WINDOW_SECONDS.
        # When each of the last WINDOW_SECONDS' sends finished (the loop's clock).
        self._recent: deque[float] = deque()
        self.sent_total = 0

    def register(self, kind: DeliveryKind, sender: ItemSender) -> None:
        """The sender for one kind of item (build_application registers each)."""
        self._senders[kind] = sender

    @property
    def window(self) -> int:
        """How many rows may be claimed and unrecorded now (the in-flight bound)."""
        return self._window

    async def _begin(self) -> float:
        """Put rows a dead process left in flight back to pending, then start sending."""
        async with self._db.transaction() as session:
            released = await deliveries.release_in_flight(
                session, keep_live_claims=self._keep_live_claims
            )
        if released:
            log.warning(
                "%s deliveries were in flight when the bot stopped: sending again", released
            )
        self._window = self._min_unrecorded
        self._started_at = self._resized_at = asyncio.get_running_loop().time()
        self._recent.clear()
        return 0.0

    async def _end(self) -> None:
        """The loop has ended: let sends under way finish briefly, record them, cancel the rest."""
        if self._sends:
            await asyncio.wait(set(self._sends), timeout=STOP_GRACE_SECONDS)
        for task in list(self._sends):
            task.cancel()
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)
        # Rows of cancelled sends stay 'sending' and go back to pending at the next start.
        with contextlib.suppress(Exception):
            await self._record_and_claim()

    async def _round(self) -> float:
        """Record what finished and claim more; at once again while more rows are due."""
        # Finished sends are gathered a moment when no claim is due, so one transaction
        # records many.
        if self._outcomes and not self._claim_size():
            await asyncio.sleep(RECORD_GATHER_SECONDS)
        try:
            await self._record_and_claim()
        except Exception:
            # The database may be busy or briefly gone: the rows wait, the engine goes on.
            log.exception("delivery engine: recording or claiming failed; retrying")
            self._more_due = False
            await asyncio.sleep(IDLE_POLL_SECONDS)
        return 0.0 if self._more_due and self._claim_size() else IDLE_POLL_SECONDS

    def _claim_size(self) -> int:
        """How many rows to claim now: the window's free room once finished sends are
        recorded, when that is a worthwhile batch; otherwise none."""
        if self.stopping or not self._may_claim():
            return 0
        room = self._window - (self._unrecorded - len(self._outcomes))
        return room if room >= max(1, self._window // CLAIM_SHARE) else 0

    def _resize(self) -> None:
        """Size the window to the sends finished in the last WINDOW_SECONDS."""
        now = asyncio.get_running_loop().time()
        if now - self._resized_at < RESIZE_EVERY_SECONDS:
            return
        self._resized_at = now
        while self._recent and self._recent[0] < now - WINDOW_SECONDS:
            self._recent.popleft()
        # In the engine's first second, the rate so far stands for the whole second.
        span = min(WINDOW_SECONDS, now - self._started_at)
        wanted = math.ceil(len(self._recent) * WINDOW_SECONDS / span)
        self._window = min(self._max_unrecorded, max(self._min_unrecorded, wanted))

    async def _record_and_claim(self) -> None:
        """Record every finished send and claim the next batch, in one transaction."""
        self._resize()
        outcomes = list(self._outcomes)
        wanted = self._claim_size()
        if not outcomes and not wanted:
            return
        now = self._clock()
        async with self._db.transaction() as session:
            sent = await self._record(session, outcomes, now=now)
            claimed = await deliveries.claim_due(
                session, limit=wanted, claimer=self._claimer, now=now
            )
            # Pushes to chats in their quiet hours wait, in the claim's transaction.
            rows = await self.quiet_hours.hold(session, claimed, now=now)
        del self._outcomes[: len(outcomes)]
        self._unrecorded += len(rows) - len(outcomes)
        self.sent_total += sent
        if wanted:
            self._more_due = len(claimed) == wanted
        # Sends start only now that their claim is committed.
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _deliver(self, row: ClaimedDelivery) -> None:
        outcome: _Outcome
        try:
            outcome = await self._send(row)
        except Exception as error:
            log.exception("delivery %s to chat %s failed unexpectedly", row.id, row.chat_id)
            outcome = _Ended(row, Failure.OTHER, repr(error))
        self._outcomes.append(outcome)
        # The rate is of sends finished, not recorded: a slow round must not look like a burst.
        self._recent.append(asyncio.get_running_loop().time())
        # Once stopping, what finishes is recorded by `_end`, not by more rounds of the loop.
        if not self.stopping:
            self.wake()

    async def _send(self, row: ClaimedDelivery) -> _Outcome:
        sender = self._senders.get(row.kind)
        if sender is None:
            return _Ended(row, Failure.OTHER, f"no sender for {row.kind} deliveries")
        try:
            message_id = await sender.send(
                self._bot,
                chat_id=row.chat_id,
                item_id=row.item_id,
                plain=False,
                thread_id=row.thread_id,
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
                    self._bot,
                    chat_id=row.chat_id,
                    item_id=row.item_id,
                    plain=True,
                    thread_id=row.thread_id,
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
        if failure in STOP_REASONS:
            log.info("chat %s unreachable (%s): pushes stop", row.chat_id, text)
            return _Ended(row, failure, text, stop=STOP_REASONS[failure])
        if failure in _TOPIC_STOP_REASONS:
            log.info(
                "topic %s of chat %s unreachable (%s): its pushes stop",
                row.thread_id,
                row.chat_id,
                text,
            )
            return _Ended(row, failure, text, topic_stop=_TOPIC_STOP_REASONS[failure])
        if failure is Failure.TRANSIENT and row.attempts < MAX_ATTEMPTS:
            return _Retry(row, backoff_seconds(row.attempts), failure, text)
        log.warning("delivery %s to chat %s failed: %s", row.id, row.chat_id, text)
        return _Ended(row, failure, text)

    async def _record(
        self, session: AsyncSession, outcomes: list[_Outcome], *, now: datetime
    ) -> int:
        """Write the outcomes of finished sends; how many were sent."""
        if not outcomes:
            return 0
        sent = [o for o in outcomes if isinstance(o, _Sent)]
        await deliveries.mark_sent(session, rows=[SentRow(o.row.id, o.message_id) for o in sent])
        await self._after_sent(session, sent)
        ended = [o for o in outcomes if isinstance(o, _Ended)]
        await deliveries.end_rows(
            session,
            rows=[EndedRow(o.row.id, DeliveryStatus.FAILED, o.failure, o.error) for o in ended],
        )
        for end in ended:
            if end.stop is not None:
                await chats.mark_chat_stopped(session, chat_id=end.row.chat_id, reason=end.stop)
            # Thread 0 is the chat itself (a forum's General topic): nothing of it to end.
            if end.topic_stop is not None and end.row.thread_id:
                await forum_topics.mark_topic_stopped(
                    session,
                    chat_id=end.row.chat_id,
                    thread_id=end.row.thread_id,
                    reason=end.topic_stop,
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
        return len(sent)

    async def _after_sent(self, session: AsyncSession, sent: list[_Sent]) -> None:
        """Run the senders' follow-ups; a failing one must not undo the record of any send."""
        if not sent:
            return
        try:
            # One savepoint for the batch: a savepoint per row would cost more than the rows.
            async with session.begin_nested():
                for outcome in sent:
                    await self._follow_up(session, outcome)
            return
        except Exception:
            log.warning("a follow-up of a sent delivery failed: redoing them one by one")
        for outcome in sent:
            try:
                async with session.begin_nested():
                    await self._follow_up(session, outcome)
            except Exception:
                log.exception("recording what delivery %s created failed", outcome.row.id)

    async def _follow_up(self, session: AsyncSession, outcome: _Sent) -> None:
        sender = self._senders.get(outcome.row.kind)
        if sender is not None:
            await sender.after_sent(
                session,
                chat_id=outcome.row.chat_id,
                item_id=outcome.row.item_id,
                message_id=outcome.message_id,
            )
