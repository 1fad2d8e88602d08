"""Queries about article polls: creating them, the messages that show them, closing, results.

Every function takes the caller's session and never commits. Votes themselves are written in
batches by ``storage.votes``; this module reads them only to count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from newsroom.poll import PollView
from newsroom.tally import Tally
from storage import poll_changes
from storage.models import Poll, PollMessage, PollOption, ResultsVisibility, Vote
from storage.types import utcnow


@dataclass(frozen=True)
class PollRecord:
    """A poll with its options in keyboard order (option ids by position)."""

    poll_id: int
    article_id: int | None
    question: str
    options: tuple[str, ...]
    option_ids: tuple[int, ...]
    closed: bool
    closes_at: datetime | None
    visibility: ResultsVisibility


@dataclass(frozen=True)
class PollResults:
    """Final or current counts of a poll and how many chats its votes came from."""

    record: PollRecord
    tally: Tally
    # Votes cast in inline copies have no chat; they are counted apart.
    chats: int
    inline_votes: int


async def create_poll(
    session: AsyncSession,
    *,
    article_id: int | None,
    question: str,
    options: Sequence[str],
    closes_at: datetime | None = None,
    visibility: ResultsVisibility = ResultsVisibility.ALWAYS,
) -> Poll:
    """A new poll with ``options`` at positions 0, 1, ...; flushed so it has its id."""
    poll = Poll(
        article_id=article_id,
        question=question,
        closes_at=closes_at,
        results_visibility=visibility,
    )
    session.add(poll)
    await session.flush()
    assert poll.id is not None  # flushed rows have their id
    session.add_all(
        PollOption(poll_id=poll.id, position=position, text=text)
        for position, text in enumerate(options)
    )
    await session.flush()
    return poll


async def poll_for_article(session: AsyncSession, *, article_id: int) -> Poll | None:
    """The article's poll, if it has one."""
    result = await session.exec(select(Poll).where(col(Poll.article_id) == article_id))
    return result.first()


async def poll_record(session: AsyncSession, *, poll_id: int) -> PollRecord | None:
    """The poll and its options, or None for an unknown poll."""
    poll = await session.get(Poll, poll_id)
    if poll is None:
        return None
    rows = await session.exec(
        select(PollOption.id, PollOption.text)
        .where(col(PollOption.poll_id) == poll_id)
        .order_by(col(PollOption.position))
    )
    options = list(rows)
    return PollRecord(
        poll_id=poll_id,
        article_id=poll.article_id,
        question=poll.question,
        options=tuple(text for _, text in options),
        option_ids=tuple(option_id for option_id, _ in options if option_id is not None),
        closed=poll.is_closed,
        closes_at=poll.closes_at,
        visibility=poll.results_visibility,
    )


async def count_votes(session: AsyncSession, *, record: PollRecord) -> Tally:
    """Votes per option of the poll, in option order (one grouped count)."""
    rows = await session.exec(
        select(Vote.option_id, sa.func.count())
        .where(col(Vote.poll_id) == record.poll_id)
        .group_by(col(Vote.option_id))
    )
    by_option = dict(rows.all())
    return Tally(tuple(by_option.get(option_id, 0) for option_id in record.option_ids))


def view_of(record: PollRecord, tally: Tally) -> PollView:
    """What readers see of the poll with these counts."""
    return PollView(
        poll_id=record.poll_id,
        question=record.question,
        options=record.options,
        tally=tally,
        closed=record.closed,
        results_visible=record.visibility == ResultsVisibility.ALWAYS,
    )


async def poll_view(session: AsyncSession, *, poll_id: int) -> PollView | None:
    """The poll as readers see it now, counted from the stored votes; None if unknown."""
    record = await poll_record(session, poll_id=poll_id)
    if record is None:
        return None
    return view_of(record, await count_votes(session, record=record))


async def register_poll_message(
    session: AsyncSession,
    *,
    poll_id: int,
    chat_id: int | None = None,
    message_id: int | None = None,
    inline_message_id: str | None = None,
    shown_hash: str | None = None,
) -> None:
    """Remember a message showing the poll so its totals are kept up to date (idempotent).

    ``shown_hash`` is the fingerprint of what was sent; a message registered again keeps its
    state. Address it by chat and message id, or by inline message id.
    """
    if inline_message_id is None and (chat_id is None or message_id is None):
        raise ValueError("a poll message needs chat_id and message_id, or inline_message_id")
    if inline_message_id is not None:
        where = col(PollMessage.inline_message_id) == inline_message_id
    else:
        where = sa.and_(
            col(PollMessage.chat_id) == chat_id, col(PollMessage.message_id) == message_id
        )
    existing = (await session.exec(select(PollMessage.id).where(where))).first()
    if existing is not None:
        return
    session.add(
        PollMessage(
            poll_id=poll_id,
            chat_id=chat_id,
            message_id=message_id,
            inline_message_id=inline_message_id,
            shown_hash=shown_hash,
            # Nothing known about what it shows: let the editor compare and fix it.
            dirty=shown_hash is None,
        )
    )
    await session.flush()


async def close_poll(session: AsyncSession, *, poll_id: int) -> bool:
    """Close the poll and mark every message showing it for a final edit; False if it was not
    open (unknown or already closed)."""
    now = utcnow()
    result = await session.exec(
        sa.update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.is_closed).is_(False))
        .values(is_closed=True, closed_at=now)
    )
    if result.rowcount == 0:
        return False
    await mark_messages_dirty(session, poll_ids=[poll_id])
    return True


async def polls_due_to_close(session: AsyncSession, *, now: datetime) -> list[int]:
    """Open polls whose ``closes_at`` has come."""
    rows = await session.exec(
        select(Poll.id).where(
            col(Poll.is_closed).is_(False),
            col(Poll.closes_at).is_not(None),
            col(Poll.closes_at) <= now,
        )
    )
    return [poll_id for poll_id in rows if poll_id is not None]


async def next_closing(session: AsyncSession) -> datetime | None:
    """When the next open poll is due to close, if any is."""
    result = await session.exec(
        select(sa.func.min(Poll.closes_at)).where(
            col(Poll.is_closed).is_(False), col(Poll.closes_at).is_not(None)
        )
    )
    value: datetime | None = result.one()
    return value


async def poll_results(session: AsyncSession, *, poll_id: int) -> PollResults | None:
    """Counts per option and how many chats voted; None for an unknown poll."""
    record = await poll_record(session, poll_id=poll_id)
    if record is None:
        return None
    tally = await count_votes(session, record=record)
    row = (
        await session.exec(
            select(
                sa.func.count(sa.distinct(col(Vote.chat_id))),
                sa.func.count().filter(col(Vote.chat_id).is_(None)),
            ).where(col(Vote.poll_id) == poll_id)
        )
    ).one()
    return PollResults(record=record, tally=tally, chats=row[0], inline_votes=row[1])


async def mark_messages_dirty(session: AsyncSession, *, poll_ids: Sequence[int]) -> None:
    """Note that the live messages of these polls may show old totals (one statement)."""
    if not poll_ids:
        return
    table: sa.Table = PollMessage.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    # Core and a cached statement: this runs with every batch of votes.
    await connection.execute(_mark_dirty(table), {"polls": list(poll_ids)})
    # Other bot processes learn of the change from the poll's counter (bot/runtime/workers.py).
    await poll_changes.bump(session, poll_ids=poll_ids)


@cache
def _mark_dirty(table: sa.Table) -> sa.Update:
    return (
        sa.update(table)
        .where(
            table.c.poll_id.in_(sa.bindparam("polls", expanding=True)),
            table.c.retired.is_(False),
            table.c.dirty.is_(False),
        )
        .values(dirty=True)
    )
