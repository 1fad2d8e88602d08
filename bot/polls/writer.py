"""Group commit of readers' taps: every tap arriving within a few milliseconds goes into one
transaction, and each tap learns its outcome only once that transaction is committed.

A vote acknowledged is a vote stored: ``submit`` returns after the commit. One task writes, so
taps by the same reader are decided one after another against the stored vote: a tap on a new
option votes or changes the vote, a tap on the option held removes it. A second tap on the same
option by the same reader in the same batch or within ``double_tap_window`` seconds (a double
tap, two devices, two copies of the card) repeats the first tap's outcome instead of undoing it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.polls.book import LivePoll, PollBook
from bot.runtime.background import BatchingLoop
from bot.runtime.update_ledger import UpdateKey, UpdateRecords
from newsroom.poll import PollView
from storage import polls, votes
from storage.engine import Database
from storage.votes import Choice, Voter, VoterKey

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.002  # how long the first tap of a batch waits for company
MAX_BATCH = 2000  # taps per transaction; the rest wait for the next one
_PRUNE_EVERY = 256  # batches between sweeps of the double-tap memory


class TapOutcome(StrEnum):
    VOTED = "voted"
    CHANGED = "changed"
    REMOVED = "removed"
    CLOSED = "closed"
    REPEATED = "repeated"  # its update was taken on before: nothing changed, nothing to answer


@dataclass(frozen=True)
class Tap:
    """A reader's press of option ``position`` of a poll, in chat ``chat_id`` (None: inline)."""

    poll_id: int
    position: int
    voter: Voter
    chat_id: int | None
    # The update the tap came in (None: recorded elsewhere, or not at all).
    update: UpdateKey | None = None


@dataclass(frozen=True)
class TapResult:
    """What the tap did, and the poll as it stands after the batch that stored it."""

    outcome: TapOutcome
    position: int
    view: PollView
    # True when the tap repeated an earlier one (a double tap) and changed nothing.
    repeated: bool = False


@dataclass(frozen=True)
class _LastTap:
    position: int
    outcome: TapOutcome
    at: float
    batch: int


@dataclass(frozen=True)
class _Decided:
    """A batch's taps decided: each voter's choice before and after, each tap's outcome (and
    whether it repeated an earlier tap) by the id of its future."""

    before: dict[VoterKey, int | None]
    after: dict[VoterKey, int | None]
    outcomes: dict[int, tuple[TapOutcome, Tap, bool]]
    voters: list[Voter]


class _KnownVoters:
    """The readers this writer stored, as stored (bounded, the longest unseen forgotten first):
    a reader's row is written when first met or when their name changes, not with every tap."""

    def __init__(self, kept: int = 100_000) -> None:
        self._kept = kept
        self._voters: dict[int, Voter] = {}

    def unknown(self, voters: Iterable[Voter]) -> list[Voter]:
        return [voter for voter in voters if self._voters.get(voter.user_id) != voter]

    def stored(self, voters: Iterable[Voter]) -> None:
        for voter in voters:
            self._voters.pop(voter.user_id, None)
            self._voters[voter.user_id] = voter
        while len(self._voters) > self._kept:
            del self._voters[next(iter(self._voters))]


class UnknownPollError(LookupError):
    """The tap names a poll that does not exist."""


class VoteWriter(BatchingLoop):
    """The single writer of votes; start it before taps arrive and stop it at shutdown (which
    stores the taps already submitted first)."""

    name = "vote-writer"

    def __init__(
        self,
        db: Database,
        book: PollBook,
        *,
        double_tap_window: float,
        records: UpdateRecords | None = None,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        super().__init__(gather_seconds=gather_seconds)
        self._db = db
        self._book = book
        self._records = records or UpdateRecords()
        self._voters = _KnownVoters()
        self._window = double_tap_window
        self._queue: list[tuple[Tap, asyncio.Future[TapResult]]] = []
        self._recent: dict[VoterKey, _LastTap] = {}
        self._batches = 0
        self.committed_votes = 0

    async def submit(self, tap: Tap) -> TapResult:
        """Decide and store the tap; returns after the commit. Raises UnknownPollError."""
        if await self._book.get(tap.poll_id) is None:
            raise UnknownPollError(tap.poll_id)
        if not self.running:
            raise RuntimeError("the vote writer is not running")
        future: asyncio.Future[TapResult] = asyncio.get_running_loop().create_future()
        self._queue.append((tap, future))
        self.wake()
        return await future

    async def _commit(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._write(batch)
            except Exception as error:  # every waiting tap must hear of it
                log.exception("a batch of %d taps was not stored", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)

    async def _write(self, batch: list[tuple[Tap, asyncio.Future[TapResult]]]) -> None:
        self._batches += 1
        book = self._book
        async with book.write_lock:
            lives: dict[int, LivePoll] = {}
            for tap, _ in batch:
                if (live := book.known(tap.poll_id)) is not None:
                    lives[tap.poll_id] = live
            decided = await self._store(batch, lives)
        for tap, future in batch:
            if future.done():
                continue
            live = lives.get(tap.poll_id)
            if id(future) in decided:
                future.set_result(decided[id(future)])
            elif live is None:
                future.set_exception(UnknownPollError(tap.poll_id))
            else:
                future.set_result(TapResult(TapOutcome.CLOSED, tap.position, live.view()))
        if self._batches % _PRUNE_EVERY == 0:
            self._prune()

    async def _store(
        self,
        batch: list[tuple[Tap, asyncio.Future[TapResult]]],
        lives: dict[int, LivePoll],
    ) -> dict[int, TapResult]:
        """Record the batch's updates, decide the taps on open polls in order and store the
        final choices, all in one transaction, then count them in; returns the results of the
        taps decided (and of the repeats) by the id of their future."""
        keyed = [(tap.update, future) for tap, future in batch if tap.update is not None]
        taps = [
            (tap, future)
            for tap, future in batch
            if tap.poll_id in lives and not lives[tap.poll_id].closed
        ]
        if not taps and not keyed:
            return {}
        results: dict[int, TapResult] = {}
        decided: _Decided | None = None
        # A reader waits on this commit: it goes before the background rounds waiting.
        async with self._db.transaction(urgent=True) as session:
            if keyed:
                taken = await self._records.take_on(session, [key for key, _ in keyed])
                repeats = {
                    id(future) for (_, future), new in zip(keyed, taken, strict=True) if not new
                }
                for tap, future in batch:
                    if id(future) in repeats and (live := lives.get(tap.poll_id)) is not None:
                        results[id(future)] = TapResult(
                            TapOutcome.REPEATED, tap.position, live.view()
                        )
                taps = [(tap, future) for tap, future in taps if id(future) not in repeats]
            if taps:
                decided = await self._decide(session, taps, lives, wrote=bool(keyed))
        if decided is not None:
            # Counted in only once committed.
            self._voters.stored(decided.voters)
            self.committed_votes += len(taps)
            self._apply(decided.before, decided.after, lives)
            for future_id, (outcome, tap, repeated) in decided.outcomes.items():
                view = lives[tap.poll_id].view()
                results[future_id] = TapResult(outcome, tap.position, view, repeated)
        return results

    async def _decide(
        self,
        session: AsyncSession,
        taps: list[tuple[Tap, asyncio.Future[TapResult]]],
        lives: dict[int, LivePoll],
        *,
        wrote: bool,
    ) -> _Decided:
        """Decide the taps in order and store the final choices in the session."""
        voters = {tap.voter.user_id: tap.voter for tap, _ in taps}
        keys = {(tap.poll_id, tap.voter.user_id) for tap, _ in taps}
        chats: dict[VoterKey, int | None] = {}
        outcomes: dict[int, tuple[TapOutcome, Tap, bool]] = {}
        # Readers as stored already (the same names) are not written again. A write comes
        # before the read below (the ledger's rows, else the voters anyway), so the
        # transaction holds SQLite's write lock when it reads.
        unknown = self._voters.unknown(voters.values())
        await votes.upsert_voters(
            session, voters=unknown or ([] if wrote else list(voters.values()))
        )
        stored = await votes.current_choices(session, keys=keys)
        before = {
            key: lives[key[0]].record.option_ids.index(stored[key]) if key in stored else None
            for key in keys
        }
        state = dict(before)
        now = time.monotonic()
        for tap, future in taps:
            key = (tap.poll_id, tap.voter.user_id)
            last = self._recent.get(key)
            if (
                last is not None
                and last.position == tap.position
                and (last.batch == self._batches or now - last.at < self._window)
            ):
                outcomes[id(future)] = (last.outcome, tap, True)
                continue
            held = state[key]
            if held is None:
                outcome, state[key] = TapOutcome.VOTED, tap.position
            elif held == tap.position:
                outcome, state[key] = TapOutcome.REMOVED, None
            else:
                outcome, state[key] = TapOutcome.CHANGED, tap.position
            chats[key] = tap.chat_id
            outcomes[id(future)] = (outcome, tap, False)
            self._recent[key] = _LastTap(tap.position, outcome, now, self._batches)
        changes: dict[VoterKey, Choice | None] = {}
        for key, position in state.items():
            if position == before[key] and key not in chats:
                continue
            if position is None:
                changes[key] = None
            else:
                option_id = lives[key[0]].record.option_ids[position]
                changes[key] = Choice(option_id=option_id, chat_id=chats.get(key))
        await votes.save_choices(session, choices=changes)
        changed_polls = sorted({key[0] for key in changes})
        await polls.mark_messages_dirty(session, poll_ids=changed_polls)
        return _Decided(before, state, outcomes, list(voters.values()))

    @staticmethod
    def _apply(
        before: dict[VoterKey, int | None],
        after: dict[VoterKey, int | None],
        lives: dict[int, LivePoll],
    ) -> None:
        """Move the committed changes into the in-memory counts."""
        touched: set[int] = set()
        for key, old in before.items():
            new = after[key]
            if old == new:
                continue
            counts = lives[key[0]].counts
            if old is not None:
                counts[old] -= 1
            if new is not None:
                counts[new] += 1
            touched.add(key[0])
        for poll_id in touched:
            lives[poll_id].changed()

    def _prune(self) -> None:
        horizon = time.monotonic() - self._window
        self._recent = {key: last for key, last in self._recent.items() if last.at >= horizon}

    @property
    def pending(self) -> int:
        """Taps waiting for the next commit."""
        return len(self._queue)
