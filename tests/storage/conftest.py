"""Fixtures for storage tests: databases of the test's own (a SQLite file in tmp_path, or a new
database on TEST_DATABASE_URL's server, from tests/conftest.py), empty or at the newest schema.

A migrated database is a copy of the one the session migrated: the tests of the migrations
themselves migrate their own (test_storage_migrations.py, test_storage_fresh_schema.py).
"""

from collections.abc import AsyncIterator

import pytest

from storage.engine import Database


@pytest.fixture(name="empty_db")
async def fixture_empty_db(database_url: str) -> AsyncIterator[Database]:
    """A connected database with no schema yet."""
    db = Database.connect(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(name="db")
async def fixture_db(migrated_database_url: str) -> AsyncIterator[Database]:
    """A connected database at the newest schema."""
    db = Database.connect(migrated_database_url)
    try:
        yield db
    finally:
        await db.dispose()
