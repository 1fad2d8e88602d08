"""Queries about chats: who is subscribed, who stopped and why, and group-to-supergroup moves.

Every function takes the caller's session and never commits. A chat receives pushes when it is
``active``: for itself when ``subscribed``, and in its forum topics subscribed on their own
(`storage.forum_topics`), so a forum group stays active while one of its topics is subscribed
even after the group itself unsubscribes. ``subscribed`` stays set after the bot is blocked or
removed so history shows who had asked for pushes. Whenever a subscribed chat starts or stops
receiving pushes, a subscription event is recorded in the same transaction
(`storage.engagement.record_subscription`); topics record none.
"""

from collections.abc import Iterable
from enum import Enum

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engagement import record_subscription
from storage.models import (
    Chat,
    ChatKind,
    Delivery,
    ForumTopic,
    PollMessage,
    RetireReason,
    StopReason,
    Vote,
)
from storage.types import utcnow
from storage.upsert import upsert


class SubscribeResult(Enum):
    SUBSCRIBED = "subscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"
    RESUBSCRIBED = "resubscribed"


class UnknownChatError(LookupError):
    """The chat has no row yet: record it with `upsert_chat` first."""


async def upsert_chat(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: ChatKind,
    title: str | None,
    username: str | None = None,
) -> Chat:
    """Record the chat as Telegram shows it now, in one statement; return the row.

    A new chat starts unsubscribed; an existing one keeps its subscription and settings.
    """
    now = utcnow()
    return await upsert(
        session,
        Chat,
        values={
            "id": chat_id,
            "kind": kind,
            "title": title,
            "username": username,
            "subscribed": False,
            "active": False,
            "topics": [],
            "settings": {},
            "created_at": now,
            "updated_at": now,
        },
        conflict_columns=["id"],
        update_columns=["kind", "title", "username", "updated_at"],
    )


async def get_chat(session: AsyncSession, *, chat_id: int) -> Chat | None:
    return await session.get(Chat, chat_id)


async def _existing_chat(session: AsyncSession, chat_id: int) -> Chat:
    if (chat := await session.get(Chat, chat_id)) is None:
        raise UnknownChatError(chat_id)
    return chat


def start_receiving(receiver: Chat | ForumTopic) -> SubscribeResult:
    """A chat or forum topic receives pushes from now on (subscribed, active, no stop); whether
    it is new or coming back."""
    result = (
        SubscribeResult.SUBSCRIBED
        if receiver.subscribed_at is None
        else SubscribeResult.RESUBSCRIBED
    )
    now = utcnow()
    receiver.subscribed = True
    receiver.active = True
    receiver.stop_reason = None
    receiver.stopped_at = None
    receiver.subscribed_at = now
    receiver.updated_at = now
    return result


def stop_receiving(receiver: Chat | ForumTopic, reason: StopReason) -> bool:
    """A chat or forum topic receives no more pushes, for `reason` (its subscribed flag stays,
    as history); whether it was receiving until now. A stop repeated keeps the first time."""
    was_active = receiver.active
    now = utcnow()
    receiver.active = False
    receiver.stop_reason = reason
    if was_active or receiver.stopped_at is None:
        receiver.stopped_at = now
    receiver.updated_at = now
    return was_active


async def subscribe_chat(session: AsyncSession, *, chat_id: int) -> SubscribeResult:
    """Start pushes to the chat; say whether it is new, already on, or coming back."""
    chat = await _existing_chat(session, chat_id)
    if chat.subscribed and chat.active:
        return SubscribeResult.ALREADY_SUBSCRIBED
    result = start_receiving(chat)
    session.add(chat)
    await session.flush()
    await record_subscription(session, chat_id=chat_id, chat_kind=chat.kind, subscribed=True)
    return result


async def unsubscribe_chat(session: AsyncSession, *, chat_id: int) -> bool:
    """Stop pushes at the chat's request; False when it was not subscribed."""
    chat = await session.get(Chat, chat_id)
    if chat is None or not chat.subscribed:
        return False
    was_active = chat.active
    now = utcnow()
    chat.subscribed = False
    # A forum's topics subscribed on their own keep receiving when the group itself leaves.
    chat.active = was_active and await has_receiving_topics(session, chat_id=chat_id)
    chat.stop_reason = StopReason.UNSUBSCRIBED
    chat.stopped_at = now
    chat.updated_at = now
    session.add(chat)
    await session.flush()
    # A chat that had blocked the bot stopped receiving pushes then, and was recorded then.
    if was_active:
        await record_subscription(session, chat_id=chat_id, chat_kind=chat.kind, subscribed=False)
    return True


async def mark_chat_stopped(session: AsyncSession, *, chat_id: int, reason: StopReason) -> bool:
    """Stop pushes because the chat can no longer be reached (blocked, kicked, ...).

    The subscribed flag stays as it was. Returns True when the chat was receiving pushes until
    now, so callers count each stop once.
    """
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return False
    was_active = stop_receiving(chat, reason)
    session.add(chat)
    await session.flush()
    # A chat active only for its forum topics was never counted as a subscriber.
    if was_active and chat.subscribed:
        await record_subscription(session, chat_id=chat_id, chat_kind=chat.kind, subscribed=False)
    return was_active


async def has_receiving_topics(session: AsyncSession, *, chat_id: int) -> bool:
    """Whether one of the chat's forum topics is subscribed and has not ended."""
    statement = select(col(ForumTopic.thread_id)).where(
        col(ForumTopic.chat_id) == chat_id,
        col(ForumTopic.subscribed).is_(True),
        col(ForumTopic.active).is_(True),
    )
    return (await session.exec(statement.limit(1))).first() is not None


async def record_bot_membership(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: ChatKind,
    title: str | None,
    username: str | None,
    present: bool,
    reason: StopReason | None = None,
) -> Chat:
    """Record that the bot joined or left a chat (Telegram's my_chat_member update).

    Joining records the chat but never (re)subscribes it: pushes start only when someone asks.
    Leaving stops pushes with `reason` (LEFT when none is given).
    """
    chat = await upsert_chat(session, chat_id=chat_id, kind=kind, title=title, username=username)
    if not present:
        await mark_chat_stopped(session, chat_id=chat_id, reason=reason or StopReason.LEFT)
    return chat


# What readers chose with /settings besides sections (``topics``, carried over on their own).
_READER_CHOICES = (
    "delivery_mode",
    "digest_hour",
    "digest_weekday",
    "quiet_from",
    "quiet_until",
    "timezone",
)


async def migrate_chat(session: AsyncSession, *, old_id: int, new_id: int) -> Chat:
    """Carry a group that became a supergroup over to its new id; return the new chat.

    The supergroup takes over the subscription, topics and settings, and the readers' delivery,
    quiet hours and time zone (unless it already had a subscription of its own), the deliveries
    (so nothing is sent twice and pending ones go to the new id) and the chat ids of votes.
    Message ids belong to the old group, so its poll messages cannot be edited through the new
    id: they are retired, not moved. The old row is kept, inactive, with reason MIGRATED and
    ``migrated_to`` set, so late updates that still carry the old id can be redirected. Calling
    this twice is harmless.
    """
    old = await session.get(Chat, old_id)
    new = await session.get(Chat, new_id)
    if old is not None and old.migrated_to == new_id and new is not None:
        return new
    now = utcnow()
    if new is None:
        new = Chat(id=new_id, kind=ChatKind.SUPERGROUP, created_at=now, updated_at=now)
    if old is None:
        session.add(new)
        await session.flush()
        return new

    old_was_active, new_was_active = old.active, new.active
    new.kind = ChatKind.SUPERGROUP
    new.title = new.title or old.title
    new.language = new.language or old.language
    new.topics = new.topics or list(old.topics)
    new.settings = {**old.settings, **new.settings}
    new.created_at = min(new.created_at, old.created_at)
    new.updated_at = now
    if not new.subscribed:
        new.subscribed = old.subscribed
        new.active = old.active
        new.stop_reason = old.stop_reason
        new.subscribed_at = old.subscribed_at
        new.stopped_at = old.stopped_at
        # The group's delivery, quiet hours and time zone go with its subscription.
        for choice in _READER_CHOICES:
            setattr(new, choice, getattr(old, choice))
    session.add(new)
    await session.flush()

    await _move_deliveries(session, old_id=old_id, new_id=new_id)
    await session.exec(sa.update(Vote).where(col(Vote.chat_id) == old_id).values(chat_id=new_id))
    await session.exec(
        sa.update(PollMessage)
        .where(col(PollMessage.chat_id) == old_id, col(PollMessage.retired).is_(False))
        .values(retired=True, retired_reason=RetireReason.CHAT_MIGRATED, dirty=False)
    )

    old.active = False
    old.stop_reason = StopReason.MIGRATED
    old.stopped_at = now
    old.migrated_to = new_id
    old.updated_at = now
    session.add(old)
    await session.flush()
    # The subscriber history sees the group stop and the supergroup start at the same moment.
    if old_was_active:
        await record_subscription(session, chat_id=old_id, chat_kind=old.kind, subscribed=False)
    if new.active and not new_was_active:
        await record_subscription(session, chat_id=new_id, chat_kind=new.kind, subscribed=True)
    return new


async def _move_deliveries(session: AsyncSession, *, old_id: int, new_id: int) -> None:
    # Where both chats have a delivery of the same item, the supergroup's own one stays.
    for item in (col(Delivery.article_id), col(Delivery.broadcast_id)):
        already_there = select(item).where(col(Delivery.chat_id) == new_id, item.is_not(None))
        await session.exec(
            sa.delete(Delivery).where(col(Delivery.chat_id) == old_id, item.in_(already_there))
        )
    await session.exec(
        sa.update(Delivery).where(col(Delivery.chat_id) == old_id).values(chat_id=new_id)
    )


async def count_chats_by_kind(
    session: AsyncSession, *, active_only: bool = True
) -> dict[ChatKind, int]:
    """How many chats of each kind receive pushes (or are known, with active_only=False)."""
    statement = select(Chat.kind, sa.func.count()).group_by(col(Chat.kind))
    if active_only:
        statement = statement.where(col(Chat.active).is_(True))
    counts = dict.fromkeys(ChatKind, 0)
    for kind, count in await session.exec(statement):
        counts[ChatKind(kind)] = count
    return counts


async def reachable_private_chats(session: AsyncSession, *, user_ids: Iterable[int]) -> list[int]:
    """Those of these users who have a private chat with the bot and have not blocked it."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    rows = await session.exec(
        select(col(Chat.id)).where(
            col(Chat.id).in_(ids),
            col(Chat.kind) == ChatKind.PRIVATE,
            col(Chat.stop_reason).is_(None),
        )
    )
    return sorted(rows)
