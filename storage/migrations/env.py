"""Alembic environment: runs migrations on a connection handed in by ``storage.migrate``,
or on a fresh async engine when Alembic's command line drives it."""

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, sa.Enum):
        return f"sa.String(length={obj.length})"
    if type_ == "type" and isinstance(obj, sa.types.TypeDecorator):
        # sqlmodel's AutoString and storage.types.UTCDateTime: migrations import sqlalchemy only.
        return f"sa.{obj.impl_instance!r}"
    return False


def _configure_options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        # SQLite alters tables by copying them; batch mode does that and is a no-op elsewhere.
        "render_as_batch": True,
        "compare_type": True,
        "render_item": render_item,
    }


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_on(connection: Connection) -> None:
    context.configure(connection=connection, **_configure_options())
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_on_new_engine() -> None:
    # A plain engine: on SQLite its connections keep foreign keys off, as batch mode needs.
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("set sqlalchemy.url, or pass a connection in config.attributes")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (given := context.config.attributes.get("connection")) is not None:
    run_migrations_on(given)
else:
    asyncio.run(run_migrations_on_new_engine())
