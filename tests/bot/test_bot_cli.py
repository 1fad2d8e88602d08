"""The command line as a user runs it: real subprocesses, real settings from the environment."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest
from harness import BOT_TOKEN, run_bot_command, start_bot_process, wait_until_polling

from emulator.simulation import Emulator
from storage.migrate import HEAD_REVISION

# These runs make their own SQLite files; the PostgreSQL pass has nothing to add to them.
pytestmark = pytest.mark.sqlite_only


async def test_help_lists_every_subcommand(tmp_path: Path) -> None:
    """`python -m bot --help` names each subcommand."""
    code, out, _ = await run_bot_command(tmp_path, "--help")
    assert code == 0
    for command in ("run", "db"):
        assert command in out


async def test_missing_token_is_one_clear_line_with_exit_code_2(tmp_path: Path) -> None:
    """Without BOT_TOKEN the program stops with one line naming it, exit 2, no traceback."""
    code, out, err = await run_bot_command(tmp_path, "run")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "error: BOT_TOKEN is required but not set (see .env.example)"
    ]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN is invalid"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS is invalid: 'abc' is not a Telegram user id"),
        ("TIMEZONE", "Nowhere/Land", "TIMEZONE is invalid: unknown time zone"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL is invalid"),
        ("TELEGRAM_BASE_URL", "ftp://x", "TELEGRAM_BASE_URL is invalid"),
        ("WEBHOOK_SECRET", "s", "WEBHOOK_SECRET is invalid: must be 32-256 characters"),
    ],
)
async def test_malformed_settings_name_the_setting(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    """Each malformed setting is reported in one line that names it, with exit code 2."""
    env = {"BOT_TOKEN": BOT_TOKEN, name: value}
    code, _, err = await run_bot_command(tmp_path, "db", "upgrade", **env)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]
    assert "emulated-bot-token" not in err


async def test_settings_come_from_the_dotenv_file(tmp_path: Path) -> None:
    """A `.env` in the working directory supplies settings; `db upgrade` creates the database."""
    (tmp_path / ".env").write_text(
        f"BOT_TOKEN={BOT_TOKEN}\nDATABASE_URL=sqlite+aiosqlite:///nested/dir/news.db\n"
    )
    code, out, err = await run_bot_command(tmp_path, "db", "upgrade")
    assert code == 0, err
    assert "schema revision:" in out
    database = tmp_path / "nested" / "dir" / "news.db"
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert {"chats", "users", "articles", "votes", "deliveries"} <= tables


async def test_db_upgrade_logs_no_alembic_chatter(tmp_path: Path) -> None:
    """`db upgrade` and `db current` print the revision and nothing of Alembic's INFO lines."""
    env = {"BOT_TOKEN": BOT_TOKEN, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'news.db'}"}

    upgraded = await run_bot_command(tmp_path, "db", "upgrade", **env)
    current = await run_bot_command(tmp_path, "db", "current", **env)

    for code, out, err in (upgraded, current):
        assert code == 0, err
        assert out.strip() == f"schema revision: {HEAD_REVISION}"
        assert [line for line in err.splitlines() if "alembic" in line] == []


async def test_run_polls_answers_and_never_logs_the_token(
    tmp_path: Path, emulator: Emulator
) -> None:
    """`run` migrates, polls the emulator, answers /start, and keeps the token out of logs."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    reader = emulator.create_user("Sol")
    process = await start_bot_process(
        tmp_path,
        "run",
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        LOG_LEVEL="DEBUG",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}",
    )
    try:
        await wait_until_polling(emulator, account)
        await emulator.send_message(reader, "/start")
        reply = await emulator.wait_for_bot_message(emulator.private_chat(reader), timeout=10)
        assert "Welcome!" in reply.text
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    log = err.decode()
    assert "update " in log  # one line per handled update
    secret = BOT_TOKEN.partition(":")[2]
    assert secret not in log
    with sqlite3.connect(tmp_path / "data" / "bot.db") as connection:
        dump = "\n".join(connection.iterdump())
    assert secret not in dump
