"""The files that hold readers' data: the SQLite database (with its -wal and -shm files), the
folders made for it, and backups are readable by the bot's user alone; a database that cannot be
opened stops the bot at start with one line."""

from __future__ import annotations

import asyncio
import signal
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import BOT_TOKEN, run_bot_command, start_bot_process, wait_until_polling

from emulator.simulation import Emulator
from storage.engine import Database
from storage.migrate import upgrade

# Every test here makes its own SQLite files.
pytestmark = pytest.mark.sqlite_only


async def _bot(tmp_path: Path, *args: str, **settings: str) -> asyncio.subprocess.Process:
    return await start_bot_process(tmp_path, *args, BOT_TOKEN=BOT_TOKEN, **settings)


async def _bot_command(tmp_path: Path, *args: str, **settings: str) -> tuple[int, str, str]:
    return await run_bot_command(tmp_path, *args, BOT_TOKEN=BOT_TOKEN, **settings)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_running_bot_keeps_its_database_private(
    tmp_path: Path, emulator: Emulator
) -> None:
    """`run` on a new database: the folders it makes are 0700; the database and the -wal and
    -shm files SQLite keeps beside it while the bot runs are 0600."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    reader = emulator.create_user("Noor")
    process = await _bot(
        tmp_path,
        "run",
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL="sqlite+aiosqlite:///state/news/bot.db",
    )
    folder = tmp_path / "state" / "news"
    try:
        await wait_until_polling(emulator, account)
        await emulator.send_message(reader, "/subscribe")
        await emulator.wait_for_bot_message(emulator.private_chat(reader), timeout=10)
        modes = {
            path.relative_to(tmp_path).as_posix(): oct(_mode(path))
            for path in (
                tmp_path / "state",
                folder,
                folder / "bot.db",
                folder / "bot.db-wal",
                folder / "bot.db-shm",
            )
        }
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert modes == {
        "state": "0o700",
        "state/news": "0o700",
        "state/news/bot.db": "0o600",
        "state/news/bot.db-wal": "0o600",
        "state/news/bot.db-shm": "0o600",
    }


async def test_a_backup_is_private_even_where_an_old_one_was_not(tmp_path: Path) -> None:
    """`db backup` writes 0600 files, in folders it makes 0700, and a backup that replaces an
    old world-readable one is 0600 too."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    db = Database.connect(database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    old = tmp_path / "backups" / "yesterday.db"
    old.parent.mkdir()
    old.write_bytes(b"an old backup")
    old.chmod(0o644)
    new = tmp_path / "backups" / "2026" / "12" / "today.db"
    for target in (old, new):
        code, out, err = await _bot_command(
            tmp_path, "db", "backup", str(target), DATABASE_URL=database_url
        )
        assert code == 0, err
        assert out.startswith(f"backed up to {target} (")
    assert oct(_mode(old)) == "0o600"
    assert oct(_mode(new)) == "0o600"
    assert oct(_mode(new.parent)) == "0o700"
    assert oct(_mode(new.parent.parent)) == "0o700"


def _data_is_a_file(tmp_path: Path) -> str:
    (tmp_path / "data").write_text("not a folder")
    return "sqlite+aiosqlite:///data/bot.db"


def _folder_in_place_of_the_file(tmp_path: Path) -> str:
    (tmp_path / "data" / "bot.db").mkdir(parents=True)
    return "sqlite+aiosqlite:///data/bot.db"


def _read_only(tmp_path: Path) -> str:
    # Read-only as SQLite opens it: a file mode would not stop the root user these tests run as.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bot.db").touch()
    return "sqlite+aiosqlite:///file:data/bot.db?mode=ro&uri=true"


_NOT_A_DIRECTORY = "error: cannot open the database data/bot.db: Not a directory"
_A_DIRECTORY = "error: cannot open the database data/bot.db: unable to open database file"
_READ_ONLY = (
    "error: cannot open the database file:data/bot.db: attempt to write a readonly database"
)


@pytest.mark.parametrize(
    ("layout", "command", "expected"),
    [
        pytest.param(_data_is_a_file, "run", _NOT_A_DIRECTORY, id="parent-is-a-file"),
        pytest.param(_folder_in_place_of_the_file, "run", _A_DIRECTORY, id="folder-for-file"),
        pytest.param(_read_only, "run", _READ_ONLY, id="read-only"),
        pytest.param(_read_only, "db upgrade", _READ_ONLY, id="read-only-db-upgrade"),
        pytest.param(_data_is_a_file, "publish notes.md", _NOT_A_DIRECTORY, id="publish"),
    ],
)
async def test_a_database_that_cannot_be_opened_is_one_line_at_start(
    tmp_path: Path,
    emulator: Emulator,
    layout: Callable[[Path], str],
    command: str,
    expected: str,
) -> None:
    """A database the bot cannot open or write stops `run`, `db upgrade` and `publish` before
    anything else, with one line naming it and SQLite's reason, exit 2."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    database_url = layout(tmp_path)
    code, out, err = await _bot_command(
        tmp_path,
        *command.split(),
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
    )
    assert (code, out) == (2, "")
    assert err.splitlines() == [expected]
    assert emulator.requests() == []
