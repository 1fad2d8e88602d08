"""Backups of the bot's database while the bot runs.

SQLite: SQLite's online backup API copies the database page by page into a new file, a
consistent snapshot even while the bot writes (WAL mode). PostgreSQL: pg_dump does the same
job better than we could, so we say how to call it.
"""

from __future__ import annotations

import asyncio
import shlex
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from storage.private_files import create_private_file, make_private_folders

PAGES_PER_STEP = 1024  # copied between short pauses, so the bot's writers are not starved


class BackupNotSupportedError(Exception):
    """This database is backed up with its own tools; the message says how."""


async def backup(database_url: str, target: Path) -> int:
    """Copy the SQLite database at `database_url` to `target` (replaced); returns its size.

    Raises BackupNotSupportedError for other databases, with the command to use instead.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        command = pg_dump_command(database_url, target)
        raise BackupNotSupportedError(f"PostgreSQL is backed up with pg_dump, e.g.:\n  {command}")
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        where = url.render_as_string()
        raise BackupNotSupportedError(f"cannot back up {where}: not a SQLite file")
    return await asyncio.to_thread(_copy, Path(url.database), target)


def _copy(source: Path, target: Path) -> int:
    if not source.is_file():
        raise BackupNotSupportedError(f"no database file at {source}")
    make_private_folders(target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Private before SQLite opens it: a backup holds readers' names and votes.
    create_private_file(partial)
    reader, writer = sqlite3.connect(source), sqlite3.connect(partial)
    try:
        reader.backup(writer, pages=PAGES_PER_STEP)
    finally:
        writer.close()
        reader.close()
    # Only a complete copy takes the target's name.
    partial.replace(target)
    return target.stat().st_size


def pg_dump_command(database_url: str, target: Path) -> str:
    """The pg_dump call that backs up this database into `target` (custom format)."""
    given = make_url(database_url)
    # The password stays out of the command line (and so out of shell history and `ps`).
    url = URL.create(
        "postgresql",
        username=given.username,
        host=given.host,
        port=given.port,
        database=given.database,
        query=given.query,
    )
    address = url.render_as_string(hide_password=False)
    return shlex.join(["pg_dump", "--format=custom", f"--file={target}", address]) + (
        "  # password: PGPASSWORD or ~/.pgpass"
    )
