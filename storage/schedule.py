"""Scheduled actions: what an admin asked to happen later, until it happens or is cancelled.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Broadcast,
    BroadcastStatus,
    ScheduledAction,
    ScheduledKind,
    ScheduledStatus,
)
from storage.types import utcnow


async def schedule_action(
    session: AsyncSession,
    *,
    kind: ScheduledKind,
    due_at: datetime,
    author_id: int,
    chat_id: int,
    url: str | None = None,
    broadcast_id: int | None = None,
) -> ScheduledAction:
    action = ScheduledAction(
        kind=kind,
        due_at=due_at,
        author_id=author_id,
        chat_id=chat_id,
        url=url,
        broadcast_id=broadcast_id,
    )
    session.add(action)
    await session.flush()
    return action


async def pending_actions(session: AsyncSession, *, limit: int = 50) -> list[ScheduledAction]:
    """What is still to happen, soonest first."""
    statement = (
        select(ScheduledAction)
        .where(col(ScheduledAction.status) == ScheduledStatus.PENDING)
        .order_by(col(ScheduledAction.due_at), col(ScheduledAction.id))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def due_actions(session: AsyncSession, *, now: datetime) -> list[ScheduledAction]:
    statement = (
        select(ScheduledAction)
        .where(
            col(ScheduledAction.status) == ScheduledStatus.PENDING,
            col(ScheduledAction.due_at) <= now,
        )
        .order_by(col(ScheduledAction.due_at), col(ScheduledAction.id))
    )
    return list((await session.exec(statement)).all())


async def next_due_at(session: AsyncSession) -> datetime | None:
    statement = (
        select(col(ScheduledAction.due_at))
        .where(col(ScheduledAction.status) == ScheduledStatus.PENDING)
        .order_by(col(ScheduledAction.due_at))
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def finish_action(
    session: AsyncSession, *, action_id: int, error: str | None = None
) -> None:
    """Record that the action ran (failed, with `error`, if given)."""
    action = await session.get(ScheduledAction, action_id)
    if action is None or action.status is not ScheduledStatus.PENDING:
        return
    action.status = ScheduledStatus.FAILED if error is not None else ScheduledStatus.DONE
    action.error = error
    action.finished_at = utcnow()
    session.add(action)
    await session.flush()


async def cancel_action(session: AsyncSession, *, action_id: int) -> ScheduledAction | None:
    """Cancel a pending action (and its scheduled broadcast); None if it was not pending."""
    action = await session.get(ScheduledAction, action_id)
    if action is None or action.status is not ScheduledStatus.PENDING:
        return None
    action.status = ScheduledStatus.CANCELLED
    action.finished_at = utcnow()
    session.add(action)
    if action.broadcast_id is not None:
        broadcast = await session.get(Broadcast, action.broadcast_id)
        if broadcast is not None and broadcast.status is BroadcastStatus.SCHEDULED:
            broadcast.status = BroadcastStatus.CANCELLED
            broadcast.finished_at = utcnow()
            session.add(broadcast)
    await session.flush()
    return action
