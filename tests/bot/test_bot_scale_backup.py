"""`python -m bot db backup PATH` as an operator runs it: a real subprocess, settings from the
environment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from harness import BOT_TOKEN, run_bot_command

from storage import chats
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import ChatKind


async def _backup(tmp_path: Path, database_url: str, target: Path) -> tuple[int, str, str]:
    return await run_bot_command(
        tmp_path,
        "db",
        "backup",
        str(target),
        BOT_TOKEN=BOT_TOKEN,
        DATABASE_URL=database_url,
        ADMIN_IDS="1",
    )


@pytest.mark.sqlite_only
async def test_backup_copies_a_sqlite_database_in_use(tmp_path: Path) -> None:
    """The backup of a SQLite database another connection holds open has its rows."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database.connect(database_url)
    await upgrade(db)
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=42, kind=ChatKind.PRIVATE, title="Reader")
    target = tmp_path / "backups" / "bot-copy.db"
    try:
        # The bot's own connection stays open meanwhile, as in a running bot.
        async with db.transaction() as session:
            assert await chats.get_chat(session, chat_id=42) is not None
            code, out, err = await _backup(tmp_path, database_url, target)
    finally:
        await db.dispose()
    assert code == 0, err
    assert str(target) in out
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT id, title FROM chats").fetchall() == [(42, "Reader")]
    copy.close()
    assert not target.with_name(target.name + ".partial").exists()


async def test_backup_of_postgresql_names_pg_dump(tmp_path: Path) -> None:
    """On PostgreSQL the command exits 2 and prints the pg_dump call to use, without the
    password."""
    url = "postgresql+asyncpg://newsbot:s3cret@db.example:5432/newsbot"
    code, _, err = await _backup(tmp_path, url, tmp_path / "newsbot.dump")
    assert code == 2
    assert "pg_dump --format=custom" in err
    assert "postgresql://newsbot@db.example:5432/newsbot" in err
    assert "s3cret" not in err
