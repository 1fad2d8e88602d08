"""The application's database: one async engine, and one short transaction per unit of work."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.private_files import create_private_file, make_private_folders
from storage.turns import Turns

SQLITE_BUSY_TIMEOUT_MS = 5000

# The task inside `Database.transaction`; tasks it starts inherit the value, hence the task check.
_transaction_owner: ContextVar[asyncio.Task[Any] | None] = ContextVar(
    "transaction_owner", default=None
)

SQLITE_PRAGMAS = (
    # Readers never block the single writer, and the writer never blocks readers.
    "PRAGMA journal_mode=WAL",
    # SQLite leaves foreign keys off unless every connection asks.
    "PRAGMA foreign_keys=ON",
    # Wait for the writer instead of failing at once with "database is locked".
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    # Safe with WAL (a power cut may lose the last commits, never corrupt), and much faster.
    "PRAGMA synchronous=NORMAL",
)


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL points to, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class DatabaseUnavailableError(Exception):
    """The database cannot be opened or written; the message says which one and why."""


# What a failing database raises at the bot: the driver's errors, the OS's, and ours.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError,
    OSError,
    DatabaseUnavailableError,
)


def _unavailable(where: object, reason: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(f"cannot open the database {where}: {reason}")


def _prepare_sqlite_file(path: Path) -> None:
    """A new database file and its folders, private before SQLite creates them world-readable."""
    try:
        make_private_folders(path.parent)
        create_private_file(path)
    except OSError as error:
        raise _unavailable(path, error.strerror or type(error).__name__) from None


def _check_sqlite_opens(url: URL) -> None:
    """Opens the SQLite database as the bot's connections do, and writes once (rolled back)."""
    engine = create_engine(url.set(drivername="sqlite"), poolclass=NullPool)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    try:
        with engine.connect() as connection:
            # A read-only file opens and reads fine: only a write tells. The driver begins no
            # transaction before DDL by itself, hence the BEGIN.
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("CREATE TABLE _open_check (x INTEGER)")
            connection.rollback()
    finally:
        engine.dispose()


class Database:
    """One engine for the life of the application and the sessions made from it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Objects stay readable after commit, when the handler goes on to talk to Telegram.
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._turns = Turns() if engine.dialect.name == "sqlite" else None

    def _turn(self, *, urgent: bool) -> contextlib.AbstractAsyncContextManager[Any]:
        """This process's turn at the database: the writer's turn on SQLite, nothing elsewhere."""
        if self._turns is None:
            return contextlib.nullcontext()
        return self._turns.turn(urgent=urgent)

    @classmethod
    def connect(cls, url: str, *, echo: bool = False) -> "Database":
        """Create the engine; every connection gets the PRAGMAs. A new SQLite file and the
        folders made for it are private to the bot's user (DatabaseUnavailableError if they
        cannot be made)."""
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite and (path := _sqlite_file(parsed)) is not None:
            _prepare_sqlite_file(path)
        engine = create_async_engine(parsed, echo=echo)
        if is_sqlite:
            event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return cls(engine)

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def check_open(self) -> None:
        """Opens a connection and writes (rolled back) once, so that a database which cannot
        be opened or written fails at start with DatabaseUnavailableError, in one line."""
        try:
            if self.is_sqlite:
                # Through the plain sqlite3 driver: a connection aiosqlite fails to open leaves
                # its worker thread to report to an event loop that may be closed by then.
                await asyncio.to_thread(_check_sqlite_opens, self.url)
            else:
                async with self.engine.connect() as connection:
                    await connection.exec_driver_sql("SELECT 1")
        except DBAPIError as error:
            if getattr(error.orig, "sqlite_errorname", None) == "SQLITE_BUSY":
                return  # another process is writing: the file opens and takes writes
            # The driver's own words, first line only (PostgreSQL's may run to several).
            said = str(error.orig).strip()
            reason = said.splitlines()[0] if said else type(error.orig).__name__
            raise _unavailable(self._where(), reason) from None
        except OSError as error:
            raise _unavailable(self._where(), error.strerror or type(error).__name__) from None

    def _where(self) -> str:
        """The database as the admin wrote it, without a password."""
        if self.is_sqlite and self.url.database:
            return self.url.database
        return self.url.render_as_string(hide_password=True)

    @contextlib.asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        On SQLite the process's transactions take turns (SQLite has one writer): waiting here
        costs nothing, while waiting on SQLite's own lock ends in "database is locked" once
        busy_timeout passes. An `urgent` one (a reader waits on it) goes before the others
        waiting (storage/turns.py). A second transaction inside the first, in the same task, would
        wait for itself forever, so it is refused.
        """
        task = asyncio.current_task()
        if task is not None and _transaction_owner.get() is task:
            raise RuntimeError("a transaction is already open in this task: pass its session")
        token = _transaction_owner.set(task)
        try:
            async with self._turn(urgent=urgent), self._sessions() as session, session.begin():
                yield session
        finally:
            _transaction_owner.reset(token)

    async def dispose(self) -> None:
        """Close every pooled connection (call once, when the application stops)."""
        await self.engine.dispose()
