"""Broadcasts: drafted by an admin, started (their audience queued), cancelled, finished.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import deliveries
from storage.models import Broadcast, BroadcastStatus, ChatKind
from storage.types import utcnow


async def create_broadcast(
    session: AsyncSession,
    *,
    author_id: int,
    html: str | None = None,
    copy_from_chat_id: int | None = None,
    copy_message_id: int | None = None,
    kinds: Collection[ChatKind] = (),
    topics: Collection[str] = (),
    scheduled_for: datetime | None = None,
    urgent: bool = False,
) -> Broadcast:
    """A draft waiting for the admin's Send (text as HTML, or a message to copy); an urgent
    one goes out during readers' quiet hours too."""
    if html is None and (copy_from_chat_id is None or copy_message_id is None):
        raise ValueError("a broadcast needs HTML text or a message to copy")
    broadcast = Broadcast(
        author_id=author_id,
        html=html,
        copy_from_chat_id=copy_from_chat_id,
        copy_message_id=copy_message_id,
        target_kinds=[ChatKind(kind).value for kind in kinds],
        target_topics=list(topics),
        scheduled_for=scheduled_for,
        urgent=urgent,
    )
    session.add(broadcast)
    await session.flush()
    return broadcast


async def get_broadcast(session: AsyncSession, *, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def schedule_broadcast(session: AsyncSession, *, broadcast_id: int) -> bool:
    """Draft -> scheduled; False when it is no longer a draft."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status is not BroadcastStatus.DRAFT:
        return False
    broadcast.status = BroadcastStatus.SCHEDULED
    session.add(broadcast)
    await session.flush()
    return True


async def start_broadcast(
    session: AsyncSession, *, broadcast_id: int, report_chat_id: int
) -> int | None:
    """Queue the audience and mark the broadcast running; how many chats, or None if it was
    not a draft or scheduled (already started, cancelled, or unknown)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status not in {
        BroadcastStatus.DRAFT,
        BroadcastStatus.SCHEDULED,
    }:
        return None
    queued = await deliveries.queue_broadcast(
        session,
        broadcast_id=broadcast_id,
        kinds=[ChatKind(kind) for kind in broadcast.target_kinds],
        topics=broadcast.target_topics,
    )
    broadcast.status = BroadcastStatus.RUNNING
    broadcast.started_at = utcnow()
    broadcast.total = queued
    broadcast.progress_chat_id = report_chat_id
    session.add(broadcast)
    await session.flush()
    return queued


async def cancel_broadcast(session: AsyncSession, *, broadcast_id: int) -> int | None:
    """Stop a draft, scheduled or running broadcast: its pending rows are cancelled, sent
    ones stay. Returns how many rows were cancelled, or None if there was nothing to stop."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status in {BroadcastStatus.DONE, BroadcastStatus.CANCELLED}:
        return None
    was_running = broadcast.status is BroadcastStatus.RUNNING
    broadcast.status = BroadcastStatus.CANCELLED
    if not was_running:
        broadcast.finished_at = utcnow()
    session.add(broadcast)
    await session.flush()
    if not was_running:
        return 0
    return await deliveries.cancel_broadcast_rows(session, broadcast_id=broadcast_id)


async def running_broadcasts(session: AsyncSession) -> list[Broadcast]:
    """Broadcasts whose progress is still reported: running, or cancelled while running and
    not yet given their final report."""
    statement = (
        select(Broadcast)
        .where(
            col(Broadcast.started_at).is_not(None),
            col(Broadcast.finished_at).is_(None),
            col(Broadcast.status).in_([BroadcastStatus.RUNNING, BroadcastStatus.CANCELLED]),
        )
        .order_by(col(Broadcast.id))
    )
    return list((await session.exec(statement)).all())


async def set_progress_message(
    session: AsyncSession, *, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return
    broadcast.progress_chat_id = chat_id
    broadcast.progress_message_id = message_id
    session.add(broadcast)
    await session.flush()


async def finish_broadcast(
    session: AsyncSession,
    *,
    broadcast_id: int,
    sent: int,
    failed: int,
    blocked: int,
    cancelled: int,
) -> Broadcast | None:
    """Record the final counts; a running broadcast becomes done (a cancelled one stays so)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    if broadcast.status is BroadcastStatus.RUNNING:
        broadcast.status = BroadcastStatus.DONE
    broadcast.sent, broadcast.failed = sent, failed
    broadcast.blocked, broadcast.cancelled = blocked, cancelled
    broadcast.finished_at = utcnow()
    session.add(broadcast)
    await session.flush()
    return broadcast
