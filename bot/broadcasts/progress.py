"""The admin's view of a running broadcast: one message, edited as it goes, then the report.

The ledger is the truth: every few seconds the monitor counts each running broadcast's rows by
status, edits the progress message (sent, failed, blocked, remaining, rate, ETA) when the text
changed, and when no row is left to send writes the final report. It edits at most once per
`PROGRESS_EDIT_SECONDS`, far under the admin chat's one-message-a-second limit, and picks up
running broadcasts again after a restart. An edit that fails (a 5xx, an answer the client
cannot read) is logged once per broadcast and the next one waits longer each time (up to
`LONGEST_EDIT_WAIT`); the final report, if it cannot be edited in, is posted as a new message.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from bot.runtime.background import MIN_SLEEP_SECONDS, BackgroundLoop
from bot.runtime.backoff import Backoff
from bot.telegram.errors import Failure, classify
from storage import broadcasts, deliveries
from storage.engine import Database
from storage.models import Broadcast, BroadcastStatus, DeliveryStatus
from storage.quiet_hours import QUIET_HOURS
from storage.types import utcnow

log = logging.getLogger(__name__)

PROGRESS_EDIT_SECONDS = 3.0
# The rate is measured over this much recent time, so a pause shows in the ETA.
RATE_WINDOW_SECONDS = 30.0
LONGEST_EDIT_WAIT = 60.0  # seconds between tries of a progress message that keeps failing
_UNREACHABLE = frozenset(
    {Failure.BLOCKED.value, Failure.KICKED.value, Failure.CHAT_NOT_FOUND.value}
)


@dataclass(frozen=True)
class Progress:
    sent: int
    failed: int
    blocked: int
    cancelled: int
    remaining: int
    # Of the remaining: rows waiting for their readers' quiet hours to end.
    held: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked

    @property
    def total(self) -> int:
        return self.done + self.cancelled + self.remaining


def progress_of(counts: dict[tuple[DeliveryStatus, str | None], int]) -> Progress:
    """Rows by status and failure, folded into what the admin reads."""
    sent = failed = blocked = cancelled = remaining = held = 0
    for (status, failure), count in counts.items():
        if status is DeliveryStatus.SENT:
            sent += count
        elif status in {DeliveryStatus.PENDING, DeliveryStatus.SENDING}:
            remaining += count
            if status is DeliveryStatus.PENDING and failure == QUIET_HOURS:
                held += count
        elif status is DeliveryStatus.CANCELLED and failure == deliveries.CANCELLED_BY_ADMIN:
            cancelled += count
        elif failure in _UNREACHABLE or failure == deliveries.CHAT_INACTIVE:
            # Chats that blocked or removed the bot, now or before their turn came.
            blocked += count
        else:
            failed += count
    return Progress(sent, failed, blocked, cancelled, remaining, held)


def duration(seconds: float) -> str:
    """A span of time as an admin reads it: 42s, 3m 05s, 1h 02m."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def render_progress(broadcast_id: int, progress: Progress, rate: float | None) -> str:
    # Rows held for quiet hours go when those end, whatever the rate: the ETA leaves them out.
    sendable = progress.remaining - progress.held
    eta = duration(sendable / rate) if rate and rate > 0 and sendable else "…"
    rate_text = f"{rate:.1f}/s" if rate is not None else "…"
    held = f" ({progress.held} held for quiet hours)" if progress.held else ""
    return (
        f"Broadcast #{broadcast_id} is sending.\n"
        f"Sent: {progress.sent} · Failed: {progress.failed} · Blocked: {progress.blocked} · "
        f"Remaining: {progress.remaining}{held}\n"
        f"Rate: {rate_text} · ETA: {eta}"
    )


def render_report(broadcast: Broadcast, progress: Progress) -> str:
    took = (
        duration((utcnow() - broadcast.started_at).total_seconds())
        if broadcast.started_at is not None
        else "?"
    )
    outcome = "cancelled" if broadcast.status is BroadcastStatus.CANCELLED else "finished"
    return (
        f"Broadcast #{broadcast.id} {outcome} after {took}.\n"
        f"Sent: {progress.sent} · Failed: {progress.failed} · Blocked: {progress.blocked} · "
        f"Cancelled: {progress.cancelled} · Total: {progress.total}"
    )


class BroadcastMonitor(BackgroundLoop):
    """Keeps each running broadcast's progress message up to date, then reports the end."""

    name = "broadcast-monitor"

    def __init__(self, db: Database, bot: Bot, *, interval: float = PROGRESS_EDIT_SECONDS) -> None:
        super().__init__(idle_seconds=max(MIN_SLEEP_SECONDS, interval))
        self._db = db
        self._bot = bot
        self._interval = interval
        self._shown: dict[int, str] = {}
        self._samples: dict[int, deque[tuple[float, int]]] = {}
        self._retries = Backoff(first=interval, longest=max(interval, LONGEST_EDIT_WAIT))
        # Per broadcast: failed edits in a row, and when the next edit may be tried.
        self._failures: dict[int, int] = {}
        self._edit_after: dict[int, float] = {}

    async def _round(self) -> float:
        await self.tick()
        return max(MIN_SLEEP_SECONDS, self._interval)

    async def tick(self) -> None:
        """Update every running broadcast's message once."""
        async with self._db.transaction() as session:
            running = await broadcasts.running_broadcasts(session)
            counted = [
                (
                    broadcast,
                    progress_of(
                        await deliveries.broadcast_row_counts(
                            session,
                            broadcast_id=broadcast.id or 0,
                        )
                    ),
                )
                for broadcast in running
            ]
        for broadcast, progress in counted:
            await self._update(broadcast, progress)

    async def _update(self, broadcast: Broadcast, progress: Progress) -> None:
        broadcast_id = broadcast.id or 0
        if progress.remaining == 0:
            async with self._db.transaction() as session:
                finished = await broadcasts.finish_broadcast(
                    session,
                    broadcast_id=broadcast_id,
                    sent=progress.sent,
                    failed=progress.failed,
                    blocked=progress.blocked,
                    cancelled=progress.cancelled,
                )
            if finished is not None:
                await self._show(finished, render_report(finished, progress), final=True)
            self._shown.pop(broadcast_id, None)
            self._samples.pop(broadcast_id, None)
            self._failures.pop(broadcast_id, None)
            self._edit_after.pop(broadcast_id, None)
            log.info("broadcast %s ended: %s", broadcast_id, progress)
            return
        text = render_progress(broadcast_id, progress, self._rate(broadcast_id, progress.done))
        if self._shown.get(broadcast_id) != text and time.monotonic() >= self._edit_after.get(
            broadcast_id, 0.0
        ):
            await self._show(broadcast, text)

    def _rate(self, broadcast_id: int, done: int) -> float | None:
        now = time.monotonic()
        samples = self._samples.setdefault(broadcast_id, deque())
        samples.append((now, done))
        while len(samples) > 2 and samples[0][0] < now - RATE_WINDOW_SECONDS:
            samples.popleft()
        first_at, first_done = samples[0]
        if now - first_at <= 0:
            return None
        return (done - first_done) / (now - first_at)

    async def _show(self, broadcast: Broadcast, text: str, *, final: bool = False) -> None:
        """Edit the progress message, or post it when there is none (or it was deleted, or
        this is the final report and the edit failed)."""
        bot, broadcast_id = self._bot, broadcast.id or 0
        chat_id = broadcast.progress_chat_id or broadcast.author_id
        if broadcast.progress_message_id is not None:
            try:
                await bot.edit_message_text(
                    text, chat_id=chat_id, message_id=broadcast.progress_message_id
                )
            except TelegramError as error:
                failure = classify(error)
                if failure is Failure.NOT_MODIFIED:
                    self._shown[broadcast_id] = text
                    return
                if failure is not Failure.MESSAGE_GONE:
                    self._edit_failed(broadcast_id, text, error.message)
                    if not final:
                        return
            except Exception as error:  # e.g. a result python-telegram-bot cannot read
                self._edit_failed(broadcast_id, text, f"{type(error).__name__}: {error}")
                if not final:
                    return
            else:
                self._shown[broadcast_id] = text
                self._failures.pop(broadcast_id, None)
                return
        try:
            message = await bot.send_message(chat_id, text)
        except Exception as error:  # the admin's view only: the broadcast itself goes on
            log.warning("progress of broadcast %s could not be posted: %s", broadcast_id, error)
            return
        self._shown[broadcast_id] = text
        async with self._db.transaction() as session:
            await broadcasts.set_progress_message(
                session,
                broadcast_id=broadcast_id,
                chat_id=chat_id,
                message_id=message.message_id,
            )
        broadcast.progress_message_id = message.message_id

    def _edit_failed(self, broadcast_id: int, text: str, reason: str) -> None:
        """Logged once per broadcast; the next edit waits longer after each failure in a row."""
        failures = self._failures.get(broadcast_id, 0) + 1
        self._failures[broadcast_id] = failures
        if failures == 1:
            log.warning(
                "progress of broadcast %s not edited (%s); trying less often", broadcast_id, reason
            )
        self._shown[broadcast_id] = text
        self._edit_after[broadcast_id] = time.monotonic() + self._retries.wait(failures)
