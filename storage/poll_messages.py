"""The messages that show a poll, as the live-totals editor keeps them: what each shows, when it
may be edited next, and which ones are gone for good.

Every function takes the caller's session and never commits; writes are one statement per
batch of messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat, ChatKind, Poll, PollMessage, RetireReason


@dataclass(frozen=True)
class ShownMessage:
    """A live message showing a poll: where it is and what it shows."""

    id: int
    poll_id: int
    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    shown_hash: str | None
    next_edit_at: datetime | None
    # The kind of chat it stands in (None for an inline copy, or a chat not stored).
    chat_kind: ChatKind | None = None


@dataclass(frozen=True)
class MessageState:
    """What a message shows after an edit (or a decision not to edit) and when it may change."""

    id: int
    shown_hash: str | None
    dirty: bool
    next_edit_at: datetime | None


async def live_messages(session: AsyncSession, *, poll_id: int) -> list[ShownMessage]:
    """The poll's messages that are still kept up to date, oldest first."""
    rows = await session.exec(
        select(PollMessage, col(Chat.kind))
        .outerjoin(Chat, col(Chat.id) == col(PollMessage.chat_id))
        .where(col(PollMessage.poll_id) == poll_id, col(PollMessage.retired).is_(False))
        .order_by(col(PollMessage.id))
    )
    return [
        ShownMessage(
            id=row.id,
            poll_id=poll_id,
            chat_id=row.chat_id,
            message_id=row.message_id,
            inline_message_id=row.inline_message_id,
            shown_hash=row.shown_hash,
            next_edit_at=row.next_edit_at,
            chat_kind=None if kind is None else ChatKind(kind),
        )
        for row, kind in rows
        if row.id is not None
    ]


async def save_states(session: AsyncSession, *, states: Sequence[MessageState]) -> None:
    """Record what these messages show now (one executemany)."""
    if not states:
        return
    table: sa.Table = PollMessage.__table__  # type: ignore[attr-defined]
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values(
            shown_hash=sa.bindparam("shown"),
            dirty=sa.bindparam("is_dirty"),
            next_edit_at=sa.bindparam("next_at"),
        )
    )
    await session.exec(
        statement,
        params=[
            {
                "row_id": state.id,
                "shown": state.shown_hash,
                "is_dirty": state.dirty,
                "next_at": state.next_edit_at,
            }
            for state in states
        ],
    )


async def retire(
    session: AsyncSession, *, message_ids: Sequence[int], reason: RetireReason
) -> None:
    """Stop keeping these messages up to date (deleted, or the chat is out of reach)."""
    if not message_ids:
        return
    await session.exec(
        sa.update(PollMessage)
        .where(col(PollMessage.id).in_(message_ids))
        .values(retired=True, retired_reason=reason, dirty=False)
    )


async def polls_to_refresh(session: AsyncSession) -> list[int]:
    """Polls that may have a message showing old totals: any with a message marked dirty, and
    every open poll with a live message (its messages are compared with the current totals)."""
    has_live = (
        select(PollMessage.poll_id)
        .where(col(PollMessage.retired).is_(False))
        .where(sa.or_(col(PollMessage.dirty).is_(True), col(Poll.is_closed).is_(False)))
        .join(Poll, col(Poll.id) == col(PollMessage.poll_id))
        .distinct()
    )
    return sorted(poll_id for poll_id in await session.exec(has_live))


async def channel_copies(session: AsyncSession, *, poll_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of the poll's messages still standing in channels, oldest first:
    where the final results chart goes as a reply when the poll closes."""
    rows = await session.exec(
        select(col(PollMessage.chat_id), col(PollMessage.message_id))
        .join(Chat, col(Chat.id) == col(PollMessage.chat_id))
        .where(
            col(PollMessage.poll_id) == poll_id,
            col(PollMessage.retired).is_(False),
            col(Chat.kind) == ChatKind.CHANNEL,
        )
        .order_by(col(PollMessage.id))
    )
    return [
        (chat_id, message_id)
        for chat_id, message_id in rows
        if chat_id is not None and message_id is not None
    ]
