"""Quiet hours in the delivery ledger: the quiet hours of the chats a claim reached, which
broadcasts are urgent, and claimed rows held (back to pending) until the quiet hours end.

A held row is pending again with `not_before` at the end of the quiet hours and `failure`
"quiet_hours"; its claim is not counted as an attempt. Every function takes the caller's session
and never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, Chat, Delivery, DeliveryStatus
from storage.types import utcnow

# Why a pending row waits: its chat's quiet hours (cleared once it is sent).
QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True)
class QuietSettings:
    """A chat's quiet hours: minutes after local midnight, in its zone (None: the bot's)."""

    quiet_from: int
    quiet_until: int
    timezone: str | None


@dataclass(frozen=True)
class HeldRow:
    """A claimed row that waits for its chat's quiet hours to end, at `until`."""

    delivery_id: int
    until: datetime


async def quiet_chats(
    session: AsyncSession, *, chat_ids: Collection[int]
) -> dict[int, QuietSettings]:
    """The chats among `chat_ids` that keep quiet hours, with their settings."""
    if not chat_ids:
        return {}
    statement = select(
        col(Chat.id), col(Chat.quiet_from), col(Chat.quiet_until), col(Chat.timezone)
    ).where(
        col(Chat.id).in_(list(chat_ids)),
        col(Chat.quiet_from).is_not(None),
        col(Chat.quiet_until).is_not(None),
        col(Chat.quiet_from) != col(Chat.quiet_until),
    )
    return {
        chat_id: QuietSettings(quiet_from, quiet_until, timezone)
        for chat_id, quiet_from, quiet_until, timezone in await session.exec(statement)
        if quiet_from is not None and quiet_until is not None
    }


async def urgent_broadcasts(session: AsyncSession, *, broadcast_ids: Collection[int]) -> set[int]:
    """The broadcasts among `broadcast_ids` that go out during quiet hours too."""
    if not broadcast_ids:
        return set()
    statement = select(col(Broadcast.id)).where(
        col(Broadcast.id).in_(list(broadcast_ids)), col(Broadcast.urgent).is_(True)
    )
    return {broadcast_id for broadcast_id in await session.exec(statement) if broadcast_id}


def _hold_statement() -> sa.Update:
    rows: sa.Table = Delivery.__table__  # type: ignore[attr-defined]
    return (
        sa.update(rows)
        .where(rows.c.id == sa.bindparam("row_id"), rows.c.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.PENDING,
            not_before=sa.bindparam("until"),
            failure=QUIET_HOURS,
            # Waiting for the morning is not a try: the row keeps the attempts it had.
            attempts=rows.c.attempts - 1,
            updated_at=sa.bindparam("now"),
        )
    )


# Built once, as the ledger's other statements: it runs with every claim that reaches a chat
# in its quiet hours.
_HOLD = _hold_statement()


async def hold_rows(session: AsyncSession, *, rows: Sequence[HeldRow]) -> None:
    """Put claimed rows back to pending until their chat's quiet hours end."""
    if not rows:
        return
    connection = await session.connection()
    now = utcnow()
    await connection.execute(
        _HOLD, [{"row_id": row.delivery_id, "until": row.until, "now": now} for row in rows]
    )
