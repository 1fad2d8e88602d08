"""The engine factory: SQLite PRAGMAs on every connection, folders, one transaction per unit."""

from pathlib import Path

import pytest

from storage.chats import get_chat, upsert_chat
from storage.engine import Database
from storage.models import ChatKind


async def test_every_sqlite_connection_gets_the_pragmas(tmp_path: Path) -> None:
    """Two connections open at once both get WAL, foreign keys, a busy timeout, NORMAL sync."""
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with db.engine.connect() as first, db.engine.connect() as second:
            for connection in (first, second):
                pragmas = {
                    name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                }
                assert pragmas == {
                    "journal_mode": "wal",
                    "foreign_keys": 1,
                    "busy_timeout": 5000,
                    "synchronous": 1,
                }
    finally:
        await db.dispose()


async def test_connect_creates_the_folder_of_a_sqlite_file(tmp_path: Path) -> None:
    """A SQLite URL whose folder does not exist gets that folder, then the file on first use."""
    path = tmp_path / "data" / "nested" / "bot.db"
    db = Database.connect(f"sqlite+aiosqlite:///{path}")
    try:
        assert path.parent.is_dir()
        async with db.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        assert path.is_file()
    finally:
        await db.dispose()


async def test_database_reports_its_url_and_dialect(tmp_path: Path) -> None:
    """`url` is the parsed URL and `is_sqlite` tells SQLite apart from other databases."""
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        assert db.url.drivername == "sqlite+aiosqlite"
        assert db.url.database == str(tmp_path / "bot.db")
        assert db.is_sqlite
    finally:
        await db.dispose()


async def test_transaction_commits_on_success(db: Database) -> None:
    """What one transaction writes the next one sees, and objects stay readable after commit."""
    async with db.transaction() as session:
        chat = await upsert_chat(session, chat_id=42, kind=ChatKind.PRIVATE, title=None)
    assert chat.kind is ChatKind.PRIVATE
    async with db.transaction() as session:
        stored = await get_chat(session, chat_id=42)
    assert stored is not None
    assert stored.kind is ChatKind.PRIVATE


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    """An exception inside the block undoes its writes and reaches the caller."""

    class HandlerFailedError(Exception):
        pass

    async def handle_update() -> None:
        async with db.transaction() as session:
            await upsert_chat(session, chat_id=42, kind=ChatKind.GROUP, title="Readers")
            raise HandlerFailedError

    with pytest.raises(HandlerFailedError):
        await handle_update()
    async with db.transaction() as session:
        assert await get_chat(session, chat_id=42) is None
