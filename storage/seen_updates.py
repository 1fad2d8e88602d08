"""The window of Telegram update ids the bot has already taken on (table ``seen_updates``)."""

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SeenUpdate


async def record_new(session: AsyncSession, *, update_ids: Collection[int]) -> set[int]:
    """Record the ids; return those not seen before (one INSERT ... ON CONFLICT DO NOTHING)."""
    if not update_ids:
        return set()
    rows = [{"update_id": update_id} for update_id in set(update_ids)]
    dialect = session.get_bind().dialect.name
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(SeenUpdate).values(rows)
    elif dialect == "postgresql":
        statement = postgresql.insert(SeenUpdate).values(rows)
    else:
        raise NotImplementedError(f"no insert-or-skip for the {dialect} dialect")
    statement = statement.on_conflict_do_nothing(index_elements=["update_id"])
    result = await session.exec(statement.returning(col(SeenUpdate.update_id)))
    return set(result.scalars().all())


async def forget_older_than(session: AsyncSession, *, keep: int) -> int:
    """Drop all but the newest `keep` ids (update ids only grow); returns how many went."""
    newest = (await session.exec(select(sa.func.max(col(SeenUpdate.update_id))))).one()
    if newest is None:
        return 0
    result = await session.exec(
        sa.delete(SeenUpdate).where(col(SeenUpdate.update_id) <= newest - keep)
    )
    return int(result.rowcount)
