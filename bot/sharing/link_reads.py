"""Reading autocard links within bounds: answers remembered, reads limited, few fetches at once.

A link to a listed site that the bot does not know costs a page fetch. So the answer is
remembered by the posted address: where its article was stored, for `REMEMBER_READ` seconds,
or that it could not be read, for AUTOCARD_RETRY_AFTER seconds (it is not read again before);
a link posted again while it is being read waits for that read. Reads (fetches, not remembered
answers) are limited per reader and per group within AUTOCARD_READS_WINDOW seconds; past a
limit the link is not read, and the chat is told once per window. At most
AUTOCARD_READS_AT_ONCE pages are fetched at the same time, however many groups post links.
Everything is kept in memory, per bot process.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

REMEMBER_READ = 3600.0  # seconds a posted address keeps pointing at the article read from it
REMEMBERED_MAX = 10_000  # posted addresses remembered at most; the oldest answers go first
_SWEEP_EVERY = 1024  # reads taken between sweeps of readers and groups that went quiet


class Exhausted(StrEnum):
    """Whose reads ran out."""

    READER = "reader"
    GROUP = "group"


class ReadLimitReached(Exception):
    """The link was not read: the reader's or the group's reads in this window are used up.

    `tell` is True the first time in the window, when the chat is to hear about it.
    """

    def __init__(self, who: Exhausted, *, tell: bool) -> None:
        super().__init__(f"autocard reads of this {who.value} used up")
        self.who = who
        self.tell = tell


@dataclass(frozen=True)
class ReadLimits:
    """How much reading links may cost: per reader and per group in a window, and at once."""

    per_reader: int
    per_group: int
    window: float
    at_once: int
    retry_after: float


# Where a read stored its article, or None: the page could not become an article.
ReadAnswer = str | None


class LinkReads:
    """The autocard link reads of one bot process: remembered answers, limits, a fetch cap."""

    def __init__(self, limits: ReadLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        # Posted address -> (when the answer expires, the answer).
        self._answers: dict[str, tuple[float, ReadAnswer]] = {}
        self._reading: dict[str, asyncio.Future[ReadAnswer]] = {}
        self._reader_reads: dict[int, deque[float]] = {}
        self._group_reads: dict[int, deque[float]] = {}
        self._told: dict[tuple[Exhausted, int], float] = {}
        self._fetches = asyncio.Semaphore(limits.at_once)
        self._turns = 0

    def remembered(self, address: str) -> tuple[bool, ReadAnswer]:
        """(True, answer) while an answer for the posted address is remembered, else (False,
        None)."""
        entry = self._answers.get(address)
        if entry is None:
            return False, None
        expires, answer = entry
        if self._clock() >= expires:
            del self._answers[address]
            return False, None
        return True, answer

    async def read(
        self,
        address: str,
        *,
        chat_id: int,
        user_id: int | None,
        fetch: Callable[[], Awaitable[ReadAnswer]],
    ) -> ReadAnswer:
        """The answer for the posted address: remembered, shared with a read under way, or
        `fetch`ed now if the reader's and the group's limits allow (else ReadLimitReached)."""
        known, answer = self.remembered(address)
        if known:
            return answer
        if (under_way := self._reading.get(address)) is not None:
            # Shielded: a poster who stops waiting must not cancel the read for the others.
            return await asyncio.shield(under_way)
        self._take_turn(chat_id=chat_id, user_id=user_id)
        future: asyncio.Future[ReadAnswer] = asyncio.get_running_loop().create_future()
        self._reading[address] = future
        answer = None
        try:
            async with self._fetches:
                answer = await fetch()
            self._remember(address, answer)
        finally:
            # A fetch that failed unexpectedly is not remembered; those waiting show nothing.
            del self._reading[address]
            future.set_result(answer)
        return answer

    def _remember(self, address: str, answer: ReadAnswer) -> None:
        lifetime = REMEMBER_READ if answer is not None else self._limits.retry_after
        self._answers.pop(address, None)
        self._answers[address] = (self._clock() + lifetime, answer)
        if len(self._answers) > REMEMBERED_MAX:
            now = self._clock()
            self._answers = {a: e for a, e in self._answers.items() if e[0] > now}
            while len(self._answers) > REMEMBERED_MAX:
                # Dicts keep insertion order: the first answer is the oldest.
                del self._answers[next(iter(self._answers))]

    def _take_turn(self, *, chat_id: int, user_id: int | None) -> None:
        now = self._clock()
        self._turns += 1
        if self._turns % _SWEEP_EVERY == 0:
            self._sweep(now)
        reader: deque[float] | None = None
        if user_id is not None:
            reader = self._recent(self._reader_reads, user_id, now)
            if len(reader) >= self._limits.per_reader:
                tell = self._tell(Exhausted.READER, user_id)
                raise ReadLimitReached(Exhausted.READER, tell=tell)
        group = self._recent(self._group_reads, chat_id, now)
        if len(group) >= self._limits.per_group:
            raise ReadLimitReached(Exhausted.GROUP, tell=self._tell(Exhausted.GROUP, chat_id))
        # A refused read uses up nothing; a taken one counts for the reader and the group.
        if reader is not None:
            reader.append(now)
        group.append(now)

    def _recent(self, reads: dict[int, deque[float]], key: int, now: float) -> deque[float]:
        taken = reads.setdefault(key, deque())
        while taken and now - taken[0] >= self._limits.window:
            taken.popleft()
        return taken

    def _tell(self, who: Exhausted, key: int) -> bool:
        now = self._clock()
        told = self._told.get((who, key))
        if told is not None and now - told < self._limits.window:
            return False
        self._told[(who, key)] = now
        return True

    def _sweep(self, now: float) -> None:
        window = self._limits.window
        for reads in (self._reader_reads, self._group_reads):
            for key in [k for k, taken in reads.items() if not taken or now - taken[-1] >= window]:
                del reads[key]
        self._told = {key: at for key, at in self._told.items() if now - at < window}
