"""Schema migrations: the only way the schema is made or changed.

Every function here may be called from inside a running event loop (the bot applies pending
migrations when it starts): Alembic runs synchronously on a connection of the application's
engine through ``run_sync`` and finds it in ``config.attributes["connection"]``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.engine import Database


def migrations_folder() -> Path:
    return Path(str(files("storage").joinpath("migrations")))


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration built in code (the project has no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    rendered = make_url(url).render_as_string(hide_password=False)
    # ConfigParser treats % as interpolation; escaped passwords contain it.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows that point at rows which do not exist."""


@asynccontextmanager
async def migration_connection(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection for one migration run, committed at the end.

    On SQLite, foreign keys are switched off while the migration runs: batch mode rebuilds a
    table by dropping it, and with foreign keys on that drop would cascade-delete the rows of
    every table referencing it. The check afterwards is the one SQLite recommends.
    """
    async with db.engine.connect() as connection:
        if not db.is_sqlite:
            yield connection
            await connection.commit()
            return
        # Outside a transaction: SQLite ignores this PRAGMA inside one.
        await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            yield connection
            violations = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
            if violations:
                raise ForeignKeyViolationError(f"foreign key violations: {violations[:5]}")
            await connection.commit()
        except BaseException:
            # The PRAGMA below is ignored while a transaction is open.
            await connection.rollback()
            raise
        finally:
            await connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _run(connection: Connection, url: URL, direction: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    if direction == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every migration up to `revision` (all pending ones by default)."""
    async with migration_connection(db) as connection:
        await connection.run_sync(_run, db.url, "upgrade", revision)


async def downgrade(db: Database, revision: str) -> None:
    """Undo migrations down to `revision` ("base" empties the database)."""
    async with migration_connection(db) as connection:
        await connection.run_sync(_run, db.url, "downgrade", revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when no migration has run."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision the code knows."""
    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    return ScriptDirectory.from_config(config).get_current_head()
