"""The polls readers are voting in, kept in memory: options, open or closed, and live counts.

Each poll is read from the database once (its options and one grouped count); from then on the
vote writer applies every committed batch to the counts, so showing a poll never counts rows.
Loading and applying take the same lock as the writer's commits, so no batch is counted twice
or missed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from newsroom.poll import PollView
from newsroom.tally import Tally
from storage import polls
from storage.engine import Database
from storage.models import ResultsVisibility
from storage.polls import PollRecord


@dataclass
class LivePoll:
    """One poll as the bot knows it now."""

    record: PollRecord
    counts: list[int]
    closed: bool
    # Bumped on every change of counts or state, so renderers can cache by it.
    version: int = 0
    _view: PollView | None = field(default=None, repr=False)

    @property
    def poll_id(self) -> int:
        return self.record.poll_id

    def view(self) -> PollView:
        """What readers see of the poll now."""
        if self._view is None:
            record = self.record
            self._view = PollView(
                poll_id=record.poll_id,
                question=record.question,
                options=record.options,
                tally=Tally(tuple(self.counts)),
                closed=self.closed,
                results_visible=record.visibility == ResultsVisibility.ALWAYS,
            )
        return self._view

    def changed(self) -> None:
        self.version += 1
        self._view = None


class PollBook:
    """Every poll touched since start, loaded on first use."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._polls: dict[int, LivePoll] = {}
        # Held by the vote writer while it commits and applies a batch.
        self.write_lock = asyncio.Lock()

    def known(self, poll_id: int) -> LivePoll | None:
        """The poll if it is already in memory (no I/O)."""
        return self._polls.get(poll_id)

    def loaded(self) -> list[LivePoll]:
        """Every poll in memory now (no I/O)."""
        return list(self._polls.values())

    async def get(self, poll_id: int) -> LivePoll | None:
        """The poll, loading it once; None for a poll that does not exist."""
        if (live := self._polls.get(poll_id)) is not None:
            return live
        async with self.write_lock:
            if (live := self._polls.get(poll_id)) is not None:
                return live
            async with self._db.transaction() as session:
                record = await polls.poll_record(session, poll_id=poll_id)
                if record is None:
                    return None
                tally = await polls.count_votes(session, record=record)
            live = LivePoll(record=record, counts=list(tally.counts), closed=record.closed)
            self._polls[poll_id] = live
            return live

    async def close(self, poll_id: int) -> bool:
        """Close the poll for good (stored, and every message marked for its final edit);
        False when it does not exist or was closed already."""
        async with self.write_lock:
            async with self._db.transaction() as session:
                closed = await polls.close_poll(session, poll_id=poll_id)
            if (live := self._polls.get(poll_id)) is not None and not live.closed:
                live.closed = True
                live.changed()
        return closed
