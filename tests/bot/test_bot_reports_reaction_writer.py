"""Reaction updates are stored in batches, in the order Telegram sent them: the newest update
about a thing stands, older ones are passed over, and a failed batch counts nothing as stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.reports.reaction_writer import Outcome, ReactionWriter, Store
from storage.engine import Database


@pytest.fixture(name="writer")
async def fixture_writer(tmp_path: Path) -> AsyncIterator[ReactionWriter]:
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'reactions.db'}")
    writer = ReactionWriter(db, gather_seconds=0.01, remembered=2)
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop()
        await db.dispose()


class Stores:
    """Store steps that note what they stored, one of them failing on demand."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.fail = False

    def of(self, name: str, *, ours: bool = True) -> Store:
        async def store(session: AsyncSession) -> bool:
            assert session.in_transaction()
            if self.fail:
                raise RuntimeError("the database went away")
            self.stored.append(name)
            return ours

        return store


async def test_an_older_update_arriving_late_is_passed_over(writer: ReactionWriter) -> None:
    """The newest update stored stands; one sent before it, handled after it, is not stored."""
    stores = Stores()
    assert await writer.offer("copy", (100, 7), stores.of("seven")) is Outcome.STORED
    assert await writer.offer("copy", (100, 6), stores.of("six")) is Outcome.PASSED_OVER
    assert await writer.offer("copy", (101, 1), stores.of("later")) is Outcome.STORED
    assert await writer.offer("other", (50, 1), stores.of("other")) is Outcome.STORED
    assert stores.stored == ["seven", "later", "other"]


async def test_of_updates_about_one_thing_in_one_batch_only_the_newest_is_stored(
    writer: ReactionWriter,
) -> None:
    """Three updates about one copy handed in together: one store, the newest; the others
    learn they were passed over; a message that is no copy says so."""
    stores = Stores()
    outcomes = await asyncio.gather(
        writer.offer("copy", (5, 2), stores.of("second")),
        writer.offer("copy", (5, 3), stores.of("third")),
        writer.offer("copy", (5, 1), stores.of("first")),
        writer.offer("stranger", (5, 1), stores.of("stranger", ours=False)),
    )
    assert outcomes == [
        Outcome.PASSED_OVER,
        Outcome.STORED,
        Outcome.PASSED_OVER,
        Outcome.NOT_A_COPY,
    ]
    assert sorted(stores.stored) == ["stranger", "third"]


async def test_a_failed_batch_counts_nothing_as_stored(writer: ReactionWriter) -> None:
    """Updates whose batch failed hear of the error, and an older version is then still taken."""
    stores = Stores()
    stores.fail = True
    with pytest.raises(RuntimeError):
        await writer.offer("copy", (5, 5), stores.of("five"))
    stores.fail = False
    assert await writer.offer("copy", (5, 4), stores.of("four")) is Outcome.STORED
    assert stores.stored == ["four"]


async def test_only_so_many_things_are_remembered(writer: ReactionWriter) -> None:
    """Past its bound the least recently changed thing is forgotten: an old version of it is
    taken again, while a remembered one still passes old versions over."""
    stores = Stores()
    for key in ("a", "b", "c"):
        await writer.offer(key, (9, 9), stores.of(key))
    assert await writer.offer("a", (1, 1), stores.of("old a")) is Outcome.STORED
    assert await writer.offer("c", (1, 1), stores.of("old c")) is Outcome.PASSED_OVER
