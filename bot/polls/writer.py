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
from dataclasses import dataclass
from enum import StrEnum

from bot.polls.book import LivePoll, PollBook
from bot.runtime.background import BatchingLoop
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


@dataclass(frozen=True)
class Tap:
    """A reader's press of option ``position`` of a poll, in chat ``chat_id`` (None: inline)."""

    poll_id: int
    position: int
    voter: Voter
    chat_id: int | None


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
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        super().__init__(gather_seconds=gather_seconds)
        self._db = db
        self._book = book
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
            open_taps = [
                (tap, future)
                for tap, future in batch
                if tap.poll_id in lives and not lives[tap.poll_id].closed
            ]
            decided = await self._store(open_taps, lives)
        for tap, future in batch:
            if future.done():
                continue
            live = lives.get(tap.poll_id)
            if live is None:
                future.set_exception(UnknownPollError(tap.poll_id))
            elif id(future) in decided:
                future.set_result(decided[id(future)])
            else:
                future.set_result(TapResult(TapOutcome.CLOSED, tap.position, live.view()))
        if self._batches % _PRUNE_EVERY == 0:
            self._prune()

    async def _store(
        self,
        taps: list[tuple[Tap, asyncio.Future[TapResult]]],
        lives: dict[int, LivePoll],
    ) -> dict[int, TapResult]:
        """Decide the taps in order, store the final choices in one transaction, then count
        them in; returns each tap's result by the id of its future."""
        if not taps:
            return {}
        voters = {tap.voter.user_id: tap.voter for tap, _ in taps}
        keys = {(tap.poll_id, tap.voter.user_id) for tap, _ in taps}
        chats: dict[VoterKey, int | None] = {}
        outcomes: dict[int, tuple[TapOutcome, Tap, bool]] = {}
        async with self._db.transaction() as session:
            # The voter upsert comes first: it takes SQLite's write lock before the read below.
            await votes.upsert_voters(session, voters=list(voters.values()))
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
        self.committed_votes += len(taps)
        self._apply(before, state, lives)
        return {
            future_id: TapResult(outcome, tap.position, lives[tap.poll_id].view(), repeated)
            for future_id, (outcome, tap, repeated) in outcomes.items()
        }

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
