"""One-statement INSERT ... ON CONFLICT DO UPDATE for SQLite and PostgreSQL.

Both dialects spell the upsert the same way in SQLAlchemy but through their own ``insert``;
this module picks the one that matches the session's database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

Row = TypeVar("Row", bound=SQLModel)


async def upsert(
    session: AsyncSession,
    model: type[Row],
    *,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
    keep_when_null: Collection[str] = (),
) -> Row:
    """Insert `values`, or update `update_columns` of the row that conflicts; return the row.

    Columns in `keep_when_null` keep their stored value when the new one is None.
    """
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(model).values(dict(values))
    elif dialect == "postgresql":
        # Imported here: the PostgreSQL dialect is slow to load; SQLite deployments never use it.
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415

        statement = postgresql.insert(model).values(dict(values))
    else:
        raise NotImplementedError(f"no upsert for the {dialect} dialect")
    new = statement.excluded
    assignments = {
        name: sa.func.coalesce(new[name], table.c[name]) if name in keep_when_null else new[name]
        for name in update_columns
    }
    statement = statement.on_conflict_do_update(index_elements=conflict_columns, set_=assignments)
    result = await session.exec(
        statement.returning(model),
        # The row may already sit in the session: refresh it with what the database now holds.
        execution_options={"populate_existing": True},
    )
    row: Row = result.scalar_one()
    return row
