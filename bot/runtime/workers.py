"""Several bot processes on one database: who is alive, who leads, and how they keep the limits.

Every process (worker) takes webhook updates, stores votes and sends deliveries. Through the
database each one:
- keeps a heartbeat (a ``worker:<id>`` lease), so all know who is alive;
- keeps Telegram's limits together with the others: alone, its SendLimiter takes turns in
  memory; while any other heartbeat is live, every turn comes from the database
  (``bot.telegram.shared_pace``);
- competes for the ``leader`` lease. Only the leader runs the jobs that must run once: live
  totals (poll edits), the poll closer, the scheduler, the broadcast monitor, feeds. On
  SQLite, whose single writer gains nothing from parallel claims, only the leader claims
  deliveries; on PostgreSQL every worker claims (FOR UPDATE SKIP LOCKED);
- as leader, watches the per-poll change counters (``storage.poll_changes``) and reloads the
  counts of polls whose votes other workers stored, so every copy converges on the stored totals.

The invariant: while a worker takes its turns in memory, no other worker sends anything
rate-limited. It holds because
- a worker joins (at start, and again whenever its heartbeat may have looked dead) by bumping
  the join serial in the same transaction as its heartbeat, and sends nothing limited until
  every other live worker has acknowledged that serial;
- a worker acknowledges a serial only in a beat that read the serial first and the live
  heartbeats second (so it saw everyone who joined up to it) and, having seen anyone else
  alive, switched to the database before writing the acknowledgement. It goes back to memory
  only in a beat that saw no other live heartbeat; switching either way it hands its recent
  turns over (memory to database, or database to memory);
- a worker whose heartbeat was not renewed for `STEP_DOWN_AFTER` stops sending limited calls,
  well before the others count it dead after `LEASE_SECONDS`, and a stopping worker stops
  before it gives its heartbeat back.

A leader that cannot renew its lease steps down before the lease expires, so two leaders never
edit at once; a new leader resumes pending edits from ``poll_messages``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.polls.book import PollBook
from bot.polls.live_totals import LiveTotals
from bot.runtime.background import BackgroundLoop
from bot.telegram.limiter import SendLimiter
from bot.telegram.shared_pace import SharedPace
from storage import deliveries, leases, poll_changes, polls, send_budget
from storage.engine import Database

log = logging.getLogger(__name__)

LEADER = "leader"
BEAT_EVERY = 1.0  # seconds between heartbeats and leader renewals
LEASE_SECONDS = 5.0  # a lease not renewed for this long is free for another worker
# A leader that has not renewed for this long stops leading: well before others may take over.
STEP_DOWN_AFTER = LEASE_SECONDS * 0.6
WATCH_EVERY = 0.25  # seconds between the leader's looks at the poll change counters
# How often the leader looks for deliveries left 'sending' by workers that died.
SWEEP_CLAIMS_EVERY = LEASE_SECONDS
# Chats whose turn is this long past carry no limit any more (a group's minute has passed).
FORGET_CHATS_AFTER = 60.0


@dataclass(frozen=True)
class LeaderJob:
    """A job only the leader runs: how to start it and how to stop it."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


def new_worker_id() -> str:
    """Host, process id and a random suffix: unique even across restarts with the same pid."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Workers(BackgroundLoop):
    """This process's place among the workers; start it first at startup, stop it first."""

    name = "workers"

    def __init__(
        self,
        db: Database,
        *,
        limiter: SendLimiter,
        book: PollBook,
        live_totals: LiveTotals,
        worker_id: str | None = None,
    ) -> None:
        super().__init__(idle_seconds=WATCH_EVERY)
        self._db = db
        self._limiter = limiter
        self._book = book
        self._live_totals = live_totals
        self.worker_id = worker_id or new_worker_id()
        self._jobs: list[LeaderJob] = []
        self._renewed_at = -1e9
        self._beat_at = -1e9
        # When the last beat that went through started: the heartbeat is good from then on.
        self._beat_went_at = -1e9
        self._join_serial = 0  # this worker's latest join (storage.leases.join)
        self._acknowledged = 0  # the newest join this worker has acknowledged
        # Every other live worker has acknowledged this one's join: limited calls may go.
        self.may_send = False
        self._pace = SharedPace(
            db,
            per_second=limiter.rates.per_second,
            paid_per_second=limiter.rates.paid_per_second,
        )
        self._seen: dict[int, int] | None = None
        self._swept_at = time.monotonic()
        self.is_leader = False
        self.live_count = 1
        self.polls_reloaded = 0

    def lead(self, jobs: Sequence[LeaderJob]) -> None:
        """The jobs this process runs while it leads (`bot.services.build_services` sets them)."""
        self._jobs = list(jobs)

    @property
    def alone(self) -> bool:
        """No other worker's heartbeat is live."""
        return self.live_count <= 1

    def may_claim_deliveries(self) -> bool:
        """PostgreSQL: every worker claims; SQLite: the leader only (one writer anyway)."""
        return self.is_leader or self._db.engine.dialect.name == "postgresql"

    async def _begin(self) -> float:
        """Join and try to lead at once (a lone process leads and sends from its first moment)."""
        self._limiter.close()
        await self._beat()
        return WATCH_EVERY

    async def stop(self) -> None:
        """Stop leading and beating; give the leases back so others need not wait them out."""
        await super().stop()
        # Others may go back to memory once the heartbeat is gone: nothing limited after it.
        self._limiter.close()
        self.may_send = False
        await self._step_down()
        with contextlib.suppress(Exception):
            async with self._db.transaction() as session:
                await leases.give_up(session, name=LEADER, holder=self.worker_id)
                await leases.give_up(
                    session, name=leases.WORKER_PREFIX + self.worker_id, holder=self.worker_id
                )

    async def _round(self) -> float:
        try:
            await self._watch()
        except Exception:
            # Caught here, not by the loop: the step-down below must run after a failed beat too.
            log.exception("workers: heartbeat or poll watch failed; retrying")
        if self.is_leader and time.monotonic() - self._renewed_at > STEP_DOWN_AFTER:
            log.warning("workers: leader lease not renewed in time; stepping down")
            await self._step_down()
        return WATCH_EVERY

    async def _watch(self) -> None:
        # While joining, look for the others' acknowledgements at every watch.
        if not self.may_send or time.monotonic() - self._beat_at >= BEAT_EVERY:
            await self._beat()
        if self.is_leader:
            await self._watch_polls()
        if self.is_leader and time.monotonic() - self._swept_at >= SWEEP_CLAIMS_EVERY:
            await self._release_dead_claims()

    async def _beat(self) -> None:
        started = self._beat_at = time.monotonic()
        ttl = timedelta(seconds=LEASE_SECONDS)
        # Others may have counted us dead since the last beat that went through: join again.
        joining = started - self._beat_went_at > STEP_DOWN_AFTER
        async with self._db.transaction() as session:
            # A write first: on SQLite the transaction then holds the writer lock throughout.
            if joining:
                self._join_serial = serial = await leases.join(
                    session, worker=self.worker_id, ttl=ttl
                )
            else:
                await leases.beat(
                    session, worker=self.worker_id, ttl=ttl, acknowledged=self._acknowledged
                )
                serial = await leases.joins(session)
            leading = await leases.take(session, name=LEADER, holder=self.worker_id, ttl=ttl)
            await leases.sweep_workers(session)
            # After the serial: everyone who joined up to it is in here, unless already gone.
            acknowledged = await leases.acknowledgements(session)
            others = {
                worker: ack for worker, ack in acknowledged.items() if worker != self.worker_id
            }
            if others and not self._limiter.shared:
                await self._limiter.share(session, self._pace)
                log.info("workers: %s others alive; sending by the shared limits", len(others))
            elif not others and self._limiter.shared:
                await self._limiter.go_alone(session)
                log.info("workers: alone; sending by this process's own limits")
            if serial > self._acknowledged and not joining:
                await leases.beat(session, worker=self.worker_id, ttl=ttl, acknowledged=serial)
        self._acknowledged = serial
        self._beat_went_at = started
        if leading:
            self._renewed_at = time.monotonic()
        self.live_count = 1 + len(others)
        # Once every other worker saw this one join, nobody sends alone behind its back.
        if all(ack >= self._join_serial for ack in others.values()):
            self.may_send = True
            self._limiter.open_until(started + STEP_DOWN_AFTER)
        else:
            self.may_send = False
            self._limiter.close()
        if leading and not self.is_leader:
            await self._step_up()
        elif not leading and self.is_leader:
            await self._step_down()

    async def _step_up(self) -> None:
        log.info("workers: %s leads", self.worker_id)
        self.is_leader = True
        try:
            # Counters first: any vote stored after this read is seen by the next watch.
            async with self._db.transaction() as session:
                self._seen = await poll_changes.serials(session)
            # Counts in memory may miss votes other workers stored while another one led.
            for poll_id in [live.poll_id for live in self._book.loaded()]:
                await self._reload(poll_id)
        except Exception:
            # The next watch compares every counter again; live totals re-read on start.
            log.exception("workers: reloading polls on taking the lead failed")
            self._seen = None
        for job in self._jobs:
            try:
                await job.start()
            except Exception:
                log.exception("workers: starting %s failed", job.name)

    async def _step_down(self) -> None:
        if not self.is_leader:
            return
        self.is_leader = False
        for job in reversed(self._jobs):
            try:
                await job.stop()
            except Exception:
                log.exception("workers: stopping %s failed", job.name)

    async def _release_dead_claims(self) -> None:
        """Deliveries a dead worker left 'sending' go back to pending once its heartbeat
        expired (a worker starting while it still seemed alive had to leave them); chats
        whose shared turns are long past are forgotten."""
        self._swept_at = time.monotonic()
        async with self._db.transaction() as session:
            # Our own claims are in flight here, however late our heartbeat is.
            released = await deliveries.release_in_flight(
                session, keep_live_claims=True, except_claimer=self.worker_id
            )
            await send_budget.forget_chats(session, idle_for=FORGET_CHATS_AFTER)
        if released:
            log.warning("workers: %s deliveries of a dead worker will be sent again", released)

    async def _watch_polls(self) -> None:
        """Reload the polls whose votes another worker stored since the last look."""
        async with self._db.transaction() as session:
            # Counters first, workers second: a bump we see comes from a worker we then count.
            serials = await poll_changes.serials(session)
            others = len(await leases.live_workers(session)) > 1
        # Unknown before (a failed read): every poll counts as moved.
        previous, self._seen = self._seen or {}, serials
        moved = [poll_id for poll_id, serial in serials.items() if previous.get(poll_id) != serial]
        # Alone, every stored vote was ours and is already counted in memory.
        if not moved or not others:
            return
        for poll_id in moved:
            # A poll not in memory yet is read from the database when live totals first need it.
            if self._book.known(poll_id) is None or await self._reload(poll_id):
                self._live_totals.poll_changed(poll_id)

    async def _reload(self, poll_id: int) -> bool:
        """Read the poll's stored counts and state into memory; True when they differed."""
        live = self._book.known(poll_id)
        if live is None:
            return False
        # The vote writer's lock: no batch of ours is half applied while we read.
        async with self._book.write_lock:
            async with self._db.transaction() as session:
                record = await polls.poll_record(session, poll_id=poll_id)
                if record is None:
                    return False
                tally = await polls.count_votes(session, record=record)
            counts = list(tally.counts)
            if counts == live.counts and record.closed == live.closed:
                return False
            live.record, live.counts, live.closed = record, counts, record.closed
            live.changed()
        self.polls_reloaded += 1
        return True
