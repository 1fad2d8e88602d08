"""Two bot processes' worker coordination on one database: one leader at a time, hand-over on a
clean stop, and the send rate shared by the live workers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from harness import BOT_TOKEN, wait_until
from telegram import Bot

from bot.polls.book import PollBook
from bot.polls.content import PollContent
from bot.polls.live_totals import LiveTotals
from bot.runtime.workers import LeaderJob, Workers
from bot.telegram.limiter import SendLimiter
from storage.engine import Database


class _Job:
    """A leader job that only remembers whether it runs."""

    def __init__(self) -> None:
        self.running = False

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False


@pytest.fixture(name="db")
async def db_fixture(migrated_database_url: str) -> AsyncIterator[Database]:
    """A migrated database, empty."""
    db = Database.connect(migrated_database_url)
    yield db
    await db.dispose()


def _worker(db: Database, name: str, job: _Job) -> Workers:
    book = PollBook(db)
    live_totals = LiveTotals(
        db=db, bot=Bot(BOT_TOKEN), book=book, content=PollContent(db), interval=3.0
    )
    workers = Workers(
        db, limiter=SendLimiter(), book=book, live_totals=live_totals, worker_id=name
    )
    workers.lead([LeaderJob("job", job.start, job.stop)])
    return workers


async def test_one_leader_at_a_time_and_hand_over_on_stop(db: Database) -> None:
    """The first worker leads and runs the leader's jobs; the second only counts itself in, and
    takes over (jobs included) once the first stops."""
    first_job, second_job = _Job(), _Job()
    first, second = _worker(db, "first", first_job), _worker(db, "second", second_job)
    await first.start()
    await second.start()
    try:
        assert first.is_leader
        assert first_job.running
        assert not second.is_leader
        assert not second_job.running
        assert second.live_count == 2
        await wait_until(lambda: _is(first.live_count == 2), what="the first to count two")

        await first.stop()
        assert not first_job.running
        await wait_until(lambda: _is(second_job.running), what="the second to take over")
        assert second.is_leader
        await wait_until(lambda: _is(second.live_count == 1), what="the second to be alone")
    finally:
        await first.stop()
        await second.stop()
    assert not second_job.running


async def _is(condition: bool) -> bool | None:
    return condition or None
