"""Writers under contention: SQLite busy is waited out or retried, never lost; seen update ids."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import chats, seen_updates
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Chat, ChatKind, SeenUpdate
from storage.retry import write_retrying


@pytest.fixture(name="sqlite_file")
async def sqlite_file_fixture(tmp_path: Path) -> Path:
    """A migrated SQLite database file."""
    path = tmp_path / "busy.db"
    db = Database.connect(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.dispose()
    return path


@pytest.fixture(name="lock_holder")
def lock_holder_fixture(sqlite_file: Path) -> Iterator[sqlite3.Connection]:
    """A third connection to the file, free to take SQLite's write lock."""
    connection = sqlite3.connect(sqlite_file, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(name="impatient_db")
async def impatient_db_fixture(sqlite_file: Path) -> AsyncIterator[Database]:
    """The database with a 20 ms busy timeout, so a held lock soon reads "database is locked"."""
    db = Database.connect(f"sqlite+aiosqlite:///{sqlite_file}")

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=20")
        cursor.close()

    event.listen(db.engine.sync_engine, "connect", impatient)
    yield db
    await db.dispose()


async def _add_chat(session: AsyncSession, chat_id: int) -> None:
    # Read first, then write: the pattern that needs the busy timeout.
    if await chats.get_chat(session, chat_id=chat_id) is None:
        await chats.upsert_chat(session, chat_id=chat_id, kind=ChatKind.GROUP, title="t")


async def _count_chats(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(Chat))).one()


@pytest.mark.sqlite_only
async def test_two_writers_and_a_held_lock_lose_nothing(
    sqlite_file: Path, lock_holder: sqlite3.Connection
) -> None:
    """Two engines write 2 x 60 chats while a third connection holds the write lock a while."""
    url = f"sqlite+aiosqlite:///{sqlite_file}"
    first, second = Database.connect(url), Database.connect(url)
    lock_holder.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.3, lock_holder.execute, "COMMIT")

    async def write(db: Database, base: int) -> None:
        for n in range(60):
            async with db.transaction() as session:
                await _add_chat(session, -(base + n))

    try:
        await asyncio.gather(write(first, 1000), write(second, 2000))
        assert await _count_chats(first) == 120
    finally:
        await first.dispose()
        await second.dispose()


@pytest.mark.sqlite_only
async def test_lock_held_past_the_busy_timeout_is_retried(
    impatient_db: Database, lock_holder: sqlite3.Connection
) -> None:
    """A plain write fails with "database is locked"; write_retrying waits it out and stores."""
    lock_holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="is locked"):
        async with impatient_db.transaction() as session:
            await _add_chat(session, -1)
    asyncio.get_running_loop().call_later(0.2, lock_holder.execute, "COMMIT")

    async def work(session: AsyncSession) -> None:
        await _add_chat(session, -1)

    await write_retrying(impatient_db, work, attempts=8)
    assert await _count_chats(impatient_db) == 1


@pytest.mark.sqlite_only
async def test_retries_give_up_and_raise(
    impatient_db: Database, lock_holder: sqlite3.Connection
) -> None:
    """A lock that never goes away: the last attempt's error reaches the caller, nothing stored."""
    lock_holder.execute("BEGIN IMMEDIATE")

    async def work(session: AsyncSession) -> None:
        await _add_chat(session, -1)

    with pytest.raises(OperationalError, match="is locked"):
        await write_retrying(impatient_db, work, attempts=2, pause=0.01)
    lock_holder.execute("COMMIT")
    assert await _count_chats(impatient_db) == 0


async def test_seen_updates_are_new_once_by_id_and_digest_and_pruned_by_age(db: Database) -> None:
    """Recording tells which updates are new: a repeat has the same id and digest; the same id
    with another digest, or after the old row aged out, is new. Pruning goes by age alone."""
    day = timedelta(days=1)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    async with db.transaction() as session:
        first = {1: "a1", 2: "a2", 3: "a3"}
        new = await seen_updates.record_new(
            session, updates=first, seen_at=start, forget_before=start - day
        )
        assert new == {1, 2, 3}
    later = start + timedelta(hours=1)
    async with db.transaction() as session:
        new = await seen_updates.record_new(
            session, updates={2: "b2", 3: "a3", 4: "a4"}, seen_at=later, forget_before=later - day
        )
        assert new == {2, 4}
        assert not await seen_updates.record_new(
            session, updates={}, seen_at=later, forget_before=later - day
        )
    next_day = start + day + timedelta(minutes=30)
    async with db.transaction() as session:
        # Update 1 was recorded more than a day ago: its id comes back as a new update.
        new = await seen_updates.record_new(
            session, updates={1: "a1", 4: "a4"}, seen_at=next_day, forget_before=next_day - day
        )
        assert new == {1}
    async with db.transaction() as session:
        assert await seen_updates.forget_older_than(session, before=later) == 1
        rows = (await session.exec(select(SeenUpdate.update_id, SeenUpdate.digest))).all()
    assert sorted(rows) == [(1, "a1"), (2, "b2"), (4, "a4")]
