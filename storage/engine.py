"""The application's database: one async engine, and one short transaction per unit of work."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5000

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


class Database:
    """One engine for the life of the application and the sessions made from it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Objects stay readable after commit, when the handler goes on to talk to Telegram.
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @classmethod
    def connect(cls, url: str, *, echo: bool = False) -> "Database":
        """Create the engine; a SQLite file gets its folder, every connection gets the PRAGMAs."""
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite and (path := _sqlite_file(parsed)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection (call once, when the application stops)."""
        await self.engine.dispose()
