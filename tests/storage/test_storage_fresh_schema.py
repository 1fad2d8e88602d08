"""A brand-new database gets the newest schema without Alembic: what the migrations build. So
does each copy of the database the test session migrated once (tests/database_templates.py),
which most tests get instead of migrating their own."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from database_templates import MigratedTemplate
from sqlalchemy.engine import Connection
from sqlmodel import func, select

from storage.chats import get_chat, upsert_chat
from storage.engine import Database
from storage.migrate import (
    HEAD_REVISION,
    _create_newest_schema,
    current_revision,
    downgrade,
    head_revision,
    prepare_schema,
    upgrade,
)
from storage.models import Chat, ChatKind

VERSION_TABLE = "alembic_version"


@pytest.fixture(name="db")
async def fixture_db(empty_db: Database) -> Database:
    """A database migrated here to the newest schema by the migrations themselves (not a copy
    of the session's): what these tests check."""
    await upgrade(empty_db)
    return empty_db


def _schema(connection: Connection) -> dict[str, Any]:
    """Everything the database says about its tables, Alembic's own included."""
    inspector = sa.inspect(connection)
    return {
        table: {
            # By name: a migration appends new columns; the models place them where they read best.
            "columns": sorted(
                (column["name"], str(column["type"]), column["nullable"], column.get("default"))
                for column in inspector.get_columns(table)
            ),
            "primary_key": inspector.get_pk_constraint(table),
            "indexes": sorted(
                (
                    index["name"],
                    tuple(index["column_names"]),
                    bool(index["unique"]),
                    # Partial indexes: sqlite_where, postgresql_where.
                    tuple(
                        sorted((k, str(v)) for k, v in index.get("dialect_options", {}).items())
                    ),
                )
                for index in inspector.get_indexes(table)
                if index["name"] is not None
            ),
            "uniques": sorted(
                (unique["name"], tuple(unique["column_names"]))
                for unique in inspector.get_unique_constraints(table)
                if unique["name"] is not None
            ),
            "foreign_keys": sorted(
                (
                    key["name"],
                    tuple(key["constrained_columns"]),
                    key["referred_table"],
                    tuple(key["referred_columns"]),
                    tuple(sorted(key["options"].items())),
                )
                for key in inspector.get_foreign_keys(table)
                if key["name"] is not None
            ),
            "checks": sorted(
                (check["name"], " ".join(check["sqltext"].split()))
                for check in inspector.get_check_constraints(table)
                if check["name"] is not None
            ),
        }
        for table in sorted(inspector.get_table_names())
    }


def _drop_version_table(connection: Connection) -> None:
    connection.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


async def _make_brand_new(db: Database) -> None:
    """Drop what a downgrade to base leaves behind: Alembic's own table."""
    async with db.engine.begin() as connection:
        await connection.run_sync(_drop_version_table)
    assert await _schema_of(db) == {}


async def _schema_of(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_schema)


def test_head_revision_is_the_newest_migration() -> None:
    """The revision a brand-new database is stamped with is the migrations folder's head."""
    assert head_revision() == HEAD_REVISION


async def test_brand_new_database_gets_the_schema_the_migrations_build(
    empty_db: Database,
) -> None:
    """Tables, columns, keys, indexes, constraints and the stamp equal those of a migration."""
    await _make_brand_new(empty_db)
    await prepare_schema(empty_db)
    created = await _schema_of(empty_db)
    created_revision = await current_revision(empty_db)

    await downgrade(empty_db, "base")
    await _make_brand_new(empty_db)
    await upgrade(empty_db)

    assert created == await _schema_of(empty_db)
    assert created_revision == await current_revision(empty_db) == HEAD_REVISION
    assert VERSION_TABLE in created


async def test_creating_the_schema_is_all_or_nothing(empty_db: Database) -> None:
    """A start that dies before its commit leaves no table behind: the next one starts afresh."""
    await _make_brand_new(empty_db)
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_create_newest_schema)
        await connection.rollback()

    assert await _schema_of(empty_db) == {}
    await prepare_schema(empty_db)
    assert await current_revision(empty_db) == HEAD_REVISION


async def test_database_with_tables_is_left_to_the_migrations(db: Database) -> None:
    """A database Alembic has seen, even emptied down to base, is upgraded by the migrations."""
    migrated = await _schema_of(db)
    await downgrade(db, "base")
    assert set(await _schema_of(db)) == {VERSION_TABLE}

    await prepare_schema(db)

    assert await _schema_of(db) == migrated
    assert await current_revision(db) == HEAD_REVISION


def test_preparing_a_brand_new_database_does_not_load_alembic(tmp_path: Path) -> None:
    """Start-up on a new SQLite file never imports Alembic (about 0.3 s of start-up)."""
    script = f"""
import asyncio, sys
from storage.engine import Database
from storage.migrate import prepare_schema

async def main():
    db = Database.connect("sqlite+aiosqlite:///{tmp_path / "bot.db"}")
    await prepare_schema(db)
    await db.dispose()

asyncio.run(main())
print(sorted(name for name in sys.modules if name.split(".")[0] == "alembic"))
"""
    finished = subprocess.run(  # noqa: S603 - our own interpreter running a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert finished.stdout.strip() == "[]"
    assert (tmp_path / "bot.db").is_file()


async def test_a_copy_of_the_sessions_migrated_database_is_what_the_migrations_build(
    migrated_database_url: str, empty_db: Database
) -> None:
    """Tables, columns, keys, indexes, constraints and the stamp of a copy equal those of a
    database migrated here."""
    copy = Database.connect(migrated_database_url)
    try:
        copied = await _schema_of(copy)
        copied_revision = await current_revision(copy)
    finally:
        await copy.dispose()

    await upgrade(empty_db)

    assert copied == await _schema_of(empty_db)
    assert copied_revision == await current_revision(empty_db) == HEAD_REVISION


async def test_each_copy_is_a_database_of_its_own(
    migrated_template: MigratedTemplate, tmp_path: Path
) -> None:
    """A row written in one copy is in no copy made after it, and stays in its own."""
    async with migrated_template.copy(tmp_path / "first") as first_url:
        first = Database.connect(first_url)
        try:
            async with first.transaction() as session:
                await upsert_chat(session, chat_id=-100, kind=ChatKind.GROUP, title="Desk")
            async with migrated_template.copy(tmp_path / "second") as second_url:
                second = Database.connect(second_url)
                try:
                    async with second.transaction() as session:
                        chats_in_second = (
                            await session.exec(select(func.count()).select_from(Chat))
                        ).one()
                finally:
                    await second.dispose()
            async with first.transaction() as session:
                kept = await get_chat(session, chat_id=-100)
        finally:
            await first.dispose()
    assert chats_in_second == 0
    assert kept is not None
