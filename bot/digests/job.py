"""The digest job: when a digest chat's (or forum topic's) local digest time has come, its
period's digest is made, with its row in the delivery ledger, once.

Each round reads the chats and topics that take digests, works out in each one's zone the
latest period whose due time has passed, and asks storage to create that period's digest over
the window from the previous digest's end (or, for a first digest, one period back but not
before the chat subscribed) to the due time. Storage creates nothing when the window holds no
article for the chat, and nothing twice: a digest per (chat, topic, period) is unique, so a
second round, a restart or a second worker racing this one changes nothing. The engine then
sends it like any other delivery. Only the leader runs this job (bot/runtime/workers.py).

Digest times fall on whole local hours, and every zone's offset is a multiple of a quarter
hour, so rounds run a minute past each quarter hour (and at start, for the periods that fell
due while the bot was down). The minute lets articles published just before the due time
finish committing before their window closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.local_time import DigestPeriod, chat_zone, current_period
from bot.runtime.background import BackgroundLoop
from storage import digests
from storage.digests import DigestTarget
from storage.engine import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

QUARTER_HOUR = timedelta(minutes=15)
# A period's digest is made this long after its due time at the earliest.
PUBLISHING_GRACE = timedelta(minutes=1)
# Targets looked at per transaction: the database's single writer is never held long.
TARGETS_PER_TRANSACTION = 200


@dataclass(frozen=True)
class _Due:
    target: DigestTarget
    period: DigestPeriod
    window_start: datetime


class DigestJob(BackgroundLoop):
    """Makes each period's digests once their local time has come; `run_due` is one round."""

    name = "digests"

    def __init__(
        self,
        *,
        db: Database,
        zone: ZoneInfo,
        on_queued: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(idle_seconds=QUARTER_HOUR.total_seconds())
        self._db = db
        self._zone = zone
        self._on_queued = on_queued
        self._clock = clock

    async def _round(self) -> float:
        await self.run_due()
        return self._until_next_round(self._clock())

    @staticmethod
    def _until_next_round(now: datetime) -> float:
        """Seconds until a minute past the next quarter hour."""
        into_quarter = timedelta(
            minutes=now.minute % 15, seconds=now.second, microseconds=now.microsecond
        )
        wait = QUARTER_HOUR - into_quarter + PUBLISHING_GRACE
        return max(1.0, wait.total_seconds())

    async def run_due(self) -> int:
        """Make every digest whose time has come and that has articles; how many were made."""
        now = self._clock()
        async with self._db.transaction() as session:
            targets = await digests.digest_targets(session)
        due = [plan for target in targets if (plan := self._due(target, now)) is not None]
        created = 0
        for first in range(0, len(due), TARGETS_PER_TRANSACTION):
            async with self._db.transaction() as session:
                for plan in due[first : first + TARGETS_PER_TRANSACTION]:
                    made = await digests.create_digest(
                        session,
                        target=plan.target,
                        period=plan.period.key,
                        window_start=plan.window_start,
                        window_end=plan.period.due_at,
                    )
                    if made is not None:
                        created += 1
        if created:
            log.info("%s digests made", created)
            self._on_queued()
        return created

    def _due(self, target: DigestTarget, now: datetime) -> _Due | None:
        """The period whose digest the target may get now, and where its window starts; None
        when the latest period's window is already covered (its digest was made)."""
        zone = chat_zone(target.timezone, self._zone)
        period = current_period(
            now - PUBLISHING_GRACE, zone, target.mode, target.hour, target.weekday
        )
        start = target.last_window_end or period.due_at - period.length
        if target.subscribed_at is not None:
            # Nothing from before the chat (or topic) subscribed, the last time it did.
            start = max(start, target.subscribed_at)
        if start >= period.due_at:
            return None
        return _Due(target, period, start)
