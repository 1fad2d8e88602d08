"""A change counter per poll, so one process learns of the votes others stored.

With several bot processes, each stores its readers' taps; only the process holding the
live-totals lease edits poll messages. Each stored batch bumps its polls' counters in the same
transaction; the editor compares the counters with those it saw and reloads the counts of the
polls that moved. Counters only grow, so a bump is never lost to a concurrent reader.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PollChange


async def bump(session: AsyncSession, *, poll_ids: Collection[int]) -> None:
    """Count one change for each of these polls."""
    if not poll_ids:
        return
    rows = [{"poll_id": poll_id, "serial": 1} for poll_id in sorted(set(poll_ids))]
    statement: sqlite.Insert | postgresql.Insert
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(PollChange).values(rows)
    else:
        statement = sqlite.insert(PollChange).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["poll_id"], set_={"serial": col(PollChange.serial) + 1}
    )
    await session.exec(statement)


async def serials(session: AsyncSession) -> dict[int, int]:
    """Every poll's change counter (one row per poll that ever got a vote)."""
    rows = await session.exec(select(col(PollChange.poll_id), col(PollChange.serial)))
    return dict(rows.all())
