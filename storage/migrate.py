"""Schema migrations: the only way the schema is changed.

Every function here may be called from inside a running event loop (the bot applies pending
migrations when it starts): Alembic runs synchronously on a connection of the application's
engine through ``run_sync`` and finds it in ``config.attributes["connection"]``.

A brand-new database (no tables at all) is given the newest schema directly by
`prepare_schema`: the models' tables and the head revision's stamp, which is what the migrations
build (tests/storage/test_storage_fresh_schema.py compares the two). Importing Alembic, with Mako
and Pygments behind it, costs about 0.3 s of the bot's start-up, so it happens only where used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions; a test keeps the two in step.
HEAD_REVISION = "0005"

# Alembic's own bookkeeping table, as Alembic creates it.
_VERSION_TABLE = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def migrations_folder() -> Path:
    return Path(str(files("storage").joinpath("migrations")))


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration built in code (the project has no alembic.ini)."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic is slow to import (see top)

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
    from alembic import command  # noqa: PLC0415 - Alembic is slow to import (see top)

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


async def prepare_schema(db: Database) -> None:
    """Bring the schema to the newest revision, as the bot does when it starts.

    A database without a single table gets the models' tables and the head revision's stamp
    without loading Alembic; any other is upgraded by the migrations.
    """
    async with db.engine.begin() as connection:
        created = await connection.run_sync(_create_newest_schema)
    if not created:
        await upgrade(db)


def _create_newest_schema(connection: Connection) -> bool:
    """Create the models' tables and stamp the head revision, if the database has no tables."""
    if connection.dialect.name == "sqlite":
        # sqlite3 opens a transaction only before DML: without this a crash half-way through
        # would leave tables without a stamp, which no later start could repair.
        connection.exec_driver_sql("BEGIN")
    if sa.inspect(connection).get_table_names():
        return False
    SQLModel.metadata.create_all(connection)
    _VERSION_TABLE.create(connection)
    connection.execute(_VERSION_TABLE.insert().values(version_num=HEAD_REVISION))
    return True


async def downgrade(db: Database, revision: str) -> None:
    """Undo migrations down to `revision` ("base" empties the database)."""
    async with migration_connection(db) as connection:
        await connection.run_sync(_run, db.url, "downgrade", revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - slow (see top)

    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when no migration has run."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision the code knows, as Alembic reads it from the migrations folder."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic is slow to import (see top)
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    return ScriptDirectory.from_config(config).get_current_head()
