"""The send budget several workers share: when each bot-wide lane and each chat may next send.

All instants are seconds of the database's own clock (workers may run on hosts whose clocks
differ), so every statement that hands out instants also returns the database's "now":
- ``send_lanes``: per lane ('bot', 'paid') the first instant no worker has reserved. One
  upsert reserves a block of evenly spaced instants from max(next_free, now), so two workers'
  blocks never overlap, and instants nobody reserves in time are lost for good;
- ``chat_pace``: per chat the first instant it may get another message. One upsert takes the
  chat for the instant a message will go out, and only if the chat is free by then.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ChatPace, SendLane

# Julian day number of 1970-01-01: SQLite's julianday('now') turned into Unix seconds.
_UNIX_EPOCH_JULIAN_DAY = 2440587.5
_SECONDS_PER_DAY = 86400.0
# Rows per upsert when many chats are written at once (both databases take 32766 parameters).
_ROWS_PER_STATEMENT = 1000


@dataclass(frozen=True)
class Block:
    """`count` instants `interval` apart from `first`, reserved for one worker; `now` is the
    database's clock when it answered."""

    first: float
    interval: float
    count: int
    now: float

    def instants(self) -> list[float]:
        return [self.first + n * self.interval for n in range(self.count)]


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _now(session: AsyncSession) -> sa.ColumnElement[float]:
    """The database's clock in Unix seconds, as an SQL expression."""
    if _is_postgres(session):
        # clock_timestamp(), not now(): a statement that waited for a row lock must see the time
        # after the wait.
        return sa.cast(sa.extract("epoch", sa.func.clock_timestamp()), sa.Double)
    # julianday('now') is the same for the whole statement, to the millisecond.
    return sa.cast(
        (sa.func.julianday("now") - _UNIX_EPOCH_JULIAN_DAY) * _SECONDS_PER_DAY, sa.Double
    )


def _greatest(
    session: AsyncSession, *values: sa.ColumnElement[float] | Mapped[float]
) -> sa.ColumnElement[float]:
    # SQLite's two-argument max() is a scalar function, PostgreSQL spells it GREATEST.
    function = sa.func.greatest if _is_postgres(session) else sa.func.max
    return sa.cast(function(*values), sa.Double)


Insert = sqlite.Insert | postgresql.Insert


def _insert(session: AsyncSession, model: type[SendLane] | type[ChatPace]) -> Insert:
    if _is_postgres(session):
        return postgresql.insert(model)
    return sqlite.insert(model)


async def clock(session: AsyncSession) -> float:
    """The database's clock now, in Unix seconds."""
    return (await session.exec(select(_now(session)))).one()


async def reserve(
    session: AsyncSession, *, lane: str, count: int, interval: float, lead: float = 0.0
) -> Block:
    """Reserve the lane's next `count` instants, `interval` apart, none before `lead` seconds
    from now."""
    now = _now(session)
    span = count * interval
    statement = _insert(session, SendLane).values(lane=lane, next_free=now + lead + span)
    statement = statement.on_conflict_do_update(
        index_elements=["lane"],
        set_={"next_free": _greatest(session, col(SendLane.next_free), now + lead) + span},
    )
    row = (
        await session.exec(statement.returning(col(SendLane.next_free), now.label("now")))
    ).one()
    next_free, answered_at = row
    return Block(first=next_free - span, interval=interval, count=count, now=answered_at)


async def take_chat(
    session: AsyncSession,
    *,
    chat: str,
    at: float,
    spacing: float,
    instead_of: float | None = None,
) -> float | None:
    """Take `chat` for a message at `at`, so the next may go `spacing` later. None when taken;
    otherwise the instant the chat is free (another worker took it for a later message).

    `instead_of`: the instant the caller took the chat for before and could not use; that
    turn is moved to `at` if nobody took the chat since.
    """
    statement = _insert(session, ChatPace).values(chat=chat, next_free=at + spacing)
    free = col(ChatPace.next_free) <= at
    if instead_of is not None:
        # Instants are unique across workers, so this value can only be the caller's own.
        free = sa.or_(free, col(ChatPace.next_free) == instead_of + spacing)
    statement = statement.on_conflict_do_update(
        index_elements=["chat"], set_={"next_free": statement.excluded.next_free}, where=free
    )
    taken = (await session.exec(statement.returning(col(ChatPace.chat)))).first()
    if taken is not None:
        return None
    free_at = select(col(ChatPace.next_free)).where(col(ChatPace.chat) == chat)
    return (await session.exec(free_at)).one()


async def hold(
    session: AsyncSession,
    *,
    lanes: Mapping[str, float] | None = None,
    chats: Mapping[str, float] | None = None,
) -> None:
    """Nobody sends on these lanes or to these chats before the given instants (an instant
    already later stays)."""
    await _hold(session, SendLane, "lane", col(SendLane.next_free), lanes or {})
    await _hold(session, ChatPace, "chat", col(ChatPace.next_free), chats or {})


async def _hold(
    session: AsyncSession,
    model: type[SendLane] | type[ChatPace],
    key: str,
    next_free: Mapped[float],
    instants: Mapping[str, float],
) -> None:
    pending = iter(instants.items())
    while batch := list(islice(pending, _ROWS_PER_STATEMENT)):
        statement = _insert(session, model).values(
            [{key: name, "next_free": at} for name, at in batch]
        )
        later = _greatest(session, next_free, statement.excluded.next_free)
        statement = statement.on_conflict_do_update(
            index_elements=[key], set_={"next_free": later}
        )
        await session.exec(statement)


@dataclass(frozen=True)
class Holds:
    """The lanes and chats not free before `since`, and the database's clock when read."""

    now: float
    lanes: dict[str, float]
    chats: dict[str, float]


async def holds(session: AsyncSession, *, within: float) -> Holds:
    """Every lane, and every chat whose next free instant is later than `within` seconds ago."""
    now = await clock(session)
    lanes = await session.exec(select(col(SendLane.lane), col(SendLane.next_free)))
    chats = await session.exec(
        select(col(ChatPace.chat), col(ChatPace.next_free)).where(
            col(ChatPace.next_free) > now - within
        )
    )
    return Holds(now=now, lanes=dict(lanes.all()), chats=dict(chats.all()))


async def forget_chats(session: AsyncSession, *, idle_for: float) -> int:
    """Drop the chats free for more than `idle_for` seconds; how many were dropped."""
    result = await session.exec(
        sa.delete(ChatPace).where(col(ChatPace.next_free) < _now(session) - idle_for)
    )
    return int(result.rowcount)
