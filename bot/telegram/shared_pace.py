"""The send limiter's turns taken through the database, so several workers keep one set of limits.

A worker reserves a block of bot-wide instants at a time (about `BLOCK_SECONDS` of them, one
statement; see ``storage.send_budget``) and hands them to its waiting sends in order; before a
send goes out it takes the chat for that instant (one upsert). Instants are the database's
clock, turned into this process's monotonic clock with an offset measured on every reservation.
An instant missed by more than `late_grace` lapses: sending it late could crowd the instants
other workers send at.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections import deque
from collections.abc import Callable

from storage import send_budget
from storage.engine import Database

BOT_LANE = "bot"
PAID_LANE = "paid"
# Each reservation takes about this much of a lane: few statements, and little left unused when
# a worker runs out of sends.
BLOCK_SECONDS = 0.25
# How long an offset measurement counts: long enough to find a quick answer among slow ones,
# short next to how far the two clocks drift apart.
OFFSET_MEMORY_SECONDS = 10.0
# The least lateness forgiven, whatever the rate: below it the event loop's own jitter would
# make most instants of a fast lane lapse.
MIN_LATE_GRACE = 0.02
# A block reserved on an idle lane starts this far ahead: time to take a chat for its first
# instant before that instant comes.
LEAD_SECONDS = 0.05


def late_grace(interval: float) -> float:
    """How late an instant may still be used: one interval of its lane, at least 20 ms."""
    return max(interval, MIN_LATE_GRACE)


class _ClockOffset:
    """This process's monotonic clock minus the database's clock.

    Each reservation measures `local clock on the answer - database clock in the answer`, which
    exceeds the true offset by the time the answer took to arrive; the smallest recent
    measurement is the best estimate.
    """

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque()
        self.value = 0.0

    def observe(self, local_now: float, database_now: float) -> None:
        offset = local_now - database_now
        self._samples.append((local_now, offset))
        while self._samples[0][0] < local_now - OFFSET_MEMORY_SECONDS:
            self._samples.popleft()
        self.value = min(sample for _, sample in self._samples)


class _Lane:
    """This worker's reserved, not yet used instants of one bot-wide lane (database clock)."""

    def __init__(self, name: str, per_second: float) -> None:
        self.name = name
        self.interval = 1.0 / per_second
        self.block = max(1, math.floor(per_second * BLOCK_SECONDS))
        self.grace = late_grace(self.interval)
        self.instants: deque[float] = deque()
        self.reserved_until = -math.inf
        # Instants before this one were held back by a bot-wide 429 after they were reserved.
        self.paused_until = -math.inf
        # One waiter at a time picks an instant, so a block is reserved only when one is needed.
        self.lock = asyncio.Lock()


class SharedPace:
    """Bot-wide instants and chat turns from the database, for one worker."""

    def __init__(
        self,
        db: Database,
        *,
        per_second: float,
        paid_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._offset = _ClockOffset()
        self._lanes = {
            BOT_LANE: _Lane(BOT_LANE, per_second),
            PAID_LANE: _Lane(PAID_LANE, paid_per_second),
        }

    def observe(self, local_now: float, database_now: float) -> None:
        """One more measurement of the offset between the two clocks."""
        self._offset.observe(local_now, database_now)

    def to_local(self, instant: float) -> float:
        """A database instant on this process's monotonic clock."""
        return instant + self._offset.value

    def to_database(self, local: float) -> float:
        return local - self._offset.value

    def grace(self, *, paid: bool) -> float:
        return self._lane(paid).grace

    async def instant(self, *, paid: bool) -> float:
        """A bot-wide instant reserved for this worker alone, not yet past by more than the
        lane's grace (database clock)."""
        lane = self._lane(paid)
        async with lane.lock:
            while True:
                now = self.to_database(self._clock())
                first_usable = max(now - lane.grace, lane.paused_until)
                while lane.instants and lane.instants[0] < first_usable:
                    lane.instants.popleft()
                if lane.instants:
                    return lane.instants.popleft()
                # Never more than about two blocks ahead: a pause others set still reaches us.
                ahead = lane.reserved_until - now - BLOCK_SECONDS
                if ahead > 0:
                    await asyncio.sleep(ahead)
                    continue
                async with self._db.transaction() as session:
                    block = await send_budget.reserve(
                        session,
                        lane=lane.name,
                        count=lane.block,
                        interval=lane.interval,
                        lead=LEAD_SECONDS,
                    )
                    self.observe(self._clock(), block.now)
                lane.instants.extend(block.instants())
                lane.reserved_until = block.first + block.count * block.interval

    def give_back(self, instant: float, *, paid: bool) -> None:
        """An instant a send could not use (its chat was busy): the next send may."""
        bisect.insort(self._lane(paid).instants, instant)

    async def take_chat(
        self, chat: str, instant: float, spacing: float, *, instead_of: float | None
    ) -> float | None:
        """Take the chat for a message at `instant` (moving the turn taken for `instead_of`);
        None when taken, else when it is free."""
        async with self._db.transaction() as session:
            return await send_budget.take_chat(
                session, chat=chat, at=instant, spacing=spacing, instead_of=instead_of
            )

    async def hold_chat(self, chat: str, seconds: float) -> None:
        """After a 429 for the chat: no worker sends to it for `seconds`."""
        until = self.to_database(self._clock()) + seconds
        async with self._db.transaction() as session:
            await send_budget.hold(session, chats={chat: until})

    async def hold_everything(self, seconds: float) -> None:
        """After a bot-wide 429: no worker sends anything for `seconds`."""
        until = self.to_database(self._clock()) + seconds
        for lane in self._lanes.values():
            lane.instants.clear()
            lane.reserved_until = -math.inf
            lane.paused_until = max(lane.paused_until, until)
        async with self._db.transaction() as session:
            await send_budget.hold(session, lanes=dict.fromkeys(self._lanes, until))

    def _lane(self, paid: bool) -> _Lane:
        return self._lanes[PAID_LANE if paid else BOT_LANE]
