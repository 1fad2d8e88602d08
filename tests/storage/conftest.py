"""Fixtures for storage tests: a database URL (SQLite in tmp_path unless TEST_DATABASE_URL is
set) and databases built from it, empty or migrated to head."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.engine import Database
from storage.migrate import downgrade, upgrade


@pytest.fixture(name="database_url")
def fixture_database_url(tmp_path: Path) -> str:
    """The URL under test: TEST_DATABASE_URL (say, PostgreSQL) or a fresh SQLite file."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(name="empty_db")
async def fixture_empty_db(database_url: str) -> AsyncIterator[Database]:
    """A connected database with no schema yet; a shared server database is emptied afterwards."""
    db = Database.connect(database_url)
    try:
        yield db
        if not db.is_sqlite:
            await downgrade(db, "base")
    finally:
        await db.dispose()


@pytest.fixture(name="db")
async def fixture_db(empty_db: Database) -> Database:
    """A database migrated to the newest schema."""
    await upgrade(empty_db)
    return empty_db
