"""The updates the bot has already taken on, by id and content digest (table ``seen_updates``).

An update delivered again carries the same id and the same content; an update whose id was
used before (Telegram, or a Bot API server, numbering from scratch after a restart or a quiet
week) carries other content, or comes after the old row has aged out, and counts as new.
"""

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SeenUpdate


async def record_new(
    session: AsyncSession,
    *,
    updates: Mapping[int, str],
    seen_at: datetime,
    forget_before: datetime,
) -> set[int]:
    """Record each update id with its digest; return the ids taken on as new.

    New: never recorded, or recorded with another digest, or recorded before `forget_before`
    (one INSERT ... ON CONFLICT DO UPDATE ... WHERE, so a repeat changes nothing).
    """
    if not updates:
        return set()
    rows = [
        {"update_id": update_id, "digest": digest, "seen_at": seen_at, "forget": forget_before}
        for update_id, digest in updates.items()
    ]
    connection = await session.connection()
    dialect = connection.dialect.name
    statement = _RECORD.get(dialect)
    if statement is None:
        statement = _RECORD[dialect] = _record_statement(dialect)
    # Built once, run once per row: a batch costs no compiling, whatever its size.
    result = await connection.execute(statement, rows)
    return set(result.scalars().all())


_RECORD: dict[str, sa.Executable] = {}


def _record_statement(dialect: str) -> sa.Executable:
    table = SeenUpdate.__table__  # type: ignore[attr-defined]
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(table)
    elif dialect == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"no insert-or-update for the {dialect} dialect")
    statement = statement.on_conflict_do_update(
        index_elements=["update_id"],
        set_={"digest": statement.excluded.digest, "seen_at": statement.excluded.seen_at},
        # A row without a digest (recorded before digests) compares as NULL: a repeat, by id.
        where=sa.or_(
            table.c.digest != statement.excluded.digest,
            table.c.seen_at < sa.bindparam("forget"),
        ),
    )
    return statement.returning(table.c.update_id)


async def forget_older_than(session: AsyncSession, *, before: datetime) -> int:
    """Drop the updates recorded before `before`; returns how many went."""
    result = await session.exec(sa.delete(SeenUpdate).where(col(SeenUpdate.seen_at) < before))
    return int(result.rowcount)
