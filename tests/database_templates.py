"""Databases for tests: one migrated to the newest schema once per session, and a copy of it
for every test that needs one, on SQLite (a file copy) or PostgreSQL (CREATE DATABASE ...
TEMPLATE), plus empty databases on a PostgreSQL server.

Running every migration costs a few tenths of a second a database; a copy costs milliseconds and
holds the very schema the migrations build. The tests of the migrations themselves still migrate
(tests/storage/test_storage_migrations.py, test_storage_fresh_schema.py).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import Database
from storage.migrate import upgrade

T = TypeVar("T")


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine to its end in an event loop of its own, outside any test's loop: what a
    session-wide fixture builds, before (or between) the tests' own loops."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _migrate(url: str) -> None:
    db = Database.connect(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def migrated_sqlite_file(folder: Path) -> Path:
    """A SQLite file in `folder` migrated to the newest schema, closed, with nothing in a -wal
    file beside it: ready to be copied."""
    path = folder / "migrated.db"
    run_apart(_migrate(f"sqlite+aiosqlite:///{path}"))
    # The last connection closed folds the write-ahead log into the file and removes it.
    assert not path.with_name(path.name + "-wal").exists()
    return path


def copy_sqlite_file(template: Path, target: Path) -> str:
    """A copy of the migrated file at `target` (private, as the bot makes its own), as a URL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600, exist_ok=False)
    with template.open("rb") as source, target.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return f"sqlite+aiosqlite:///{target}"


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _execute_outside_transactions(server_url: str, statement: str) -> None:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


def migrated_postgres_template(server_url: str) -> str:
    """A database on the server migrated to the newest schema, to be copied by CREATE DATABASE
    ... TEMPLATE; its name. Nothing stays connected to it (PostgreSQL copies only then)."""
    name = f"newsbot_template_{uuid.uuid4().hex[:12]}"

    async def build() -> None:
        await _execute_outside_transactions(server_url, f'CREATE DATABASE "{name}"')
        await _migrate(_database_url(server_url, name))

    run_apart(build())
    return name


@dataclass(frozen=True)
class MigratedTemplate:
    """The session's migrated database: a SQLite file, or a database on a PostgreSQL server."""

    sqlite_file: Path | None = None
    server_url: str | None = None
    postgres_name: str | None = None

    @classmethod
    def build(cls, server_url: str | None, folder: Path) -> MigratedTemplate:
        """Migrates a new database on the server, or (without one) a SQLite file in `folder`."""
        if server_url is None:
            return cls(sqlite_file=migrated_sqlite_file(folder))
        return cls(server_url=server_url, postgres_name=migrated_postgres_template(server_url))

    @asynccontextmanager
    async def copy(self, folder: Path) -> AsyncIterator[str]:
        """A copy of its own for one test (in `folder` on SQLite); its URL."""
        if self.sqlite_file is not None:
            yield copy_sqlite_file(self.sqlite_file, folder / "copy.db")
            return
        assert self.server_url is not None
        async with fresh_postgres_database(self.server_url, template=self.postgres_name) as url:
            yield url

    def drop(self) -> None:
        """Removes the template from the server at the session's end (a file goes with its
        folder)."""
        if self.server_url is not None:
            statement = f'DROP DATABASE IF EXISTS "{self.postgres_name}" WITH (FORCE)'
            run_apart(_execute_outside_transactions(self.server_url, statement))


@asynccontextmanager
async def fresh_postgres_database(
    server_url: str, *, template: str | None = None
) -> AsyncIterator[str]:
    """A database of its own on the server for one test, empty or a copy of `template`, dropped
    afterwards; its URL."""
    name = f"newsbot_test_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{template}"' if template else ""
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
        yield _database_url(server_url, name)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
