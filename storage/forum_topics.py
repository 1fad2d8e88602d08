"""Forum topics subscribed on their own: /subscribe sent inside a topic of a forum supergroup.

A topic receives pushes while it is ``subscribed`` and ``active`` and its chat is active (the
delivery audience, `storage.deliveries`, joins the two). So a topic's /subscribe makes its chat
active too: a forum whose General topic never subscribed still receives, in its topics; and a
group whose own subscription had stopped (the bot was removed, then added back) resumes with it,
since an admin asked for articles there again. When the last topic of a chat not subscribed
itself ends, the chat is active no more. Telegram saying the topic is closed or deleted ends
that topic's subscription with its reason and leaves the group's own subscription (the General
topic) and its other topics alone. Rows follow their chat: a chat deleted or moved to another id
takes its topics along (foreign key cascades). Topic subscriptions record no subscription
events: the subscriber history counts chats subscribed themselves, each once.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.chats import (
    SubscribeResult,
    UnknownChatError,
    has_receiving_topics,
    start_receiving,
    stop_receiving,
)
from storage.engagement import record_subscription
from storage.models import Chat, ForumTopic, StopReason
from storage.types import utcnow
from storage.upsert import upsert


async def _stored_topic(
    session: AsyncSession, *, chat_id: int, thread_id: int, title: str | None
) -> ForumTopic:
    """The topic's row, made (unsubscribed) when it has none; a known title is kept up to date."""
    now = utcnow()
    return await upsert(
        session,
        ForumTopic,
        values={
            "chat_id": chat_id,
            "thread_id": thread_id,
            "title": title,
            "subscribed": False,
            "active": False,
            "created_at": now,
            "updated_at": now,
        },
        conflict_columns=["chat_id", "thread_id"],
        update_columns=["title", "updated_at"],
        keep_when_null=["title"],
    )


async def subscribe_topic(
    session: AsyncSession, *, chat_id: int, thread_id: int, title: str | None = None
) -> SubscribeResult:
    """Start pushes to the topic; say whether it is new, already on, or coming back.

    The chat must be stored already (`storage.chats.upsert_chat`), else `UnknownChatError`.
    """
    chat_resumed = await _open_chat(session, chat_id)
    topic = await _stored_topic(session, chat_id=chat_id, thread_id=thread_id, title=title)
    if topic.subscribed and topic.active and not chat_resumed:
        return SubscribeResult.ALREADY_SUBSCRIBED
    result = start_receiving(topic)
    session.add(topic)
    await session.flush()
    return result


async def unsubscribe_topic(session: AsyncSession, *, chat_id: int, thread_id: int) -> bool:
    """Stop pushes to the topic at its admins' request; False when it was not subscribed."""
    topic = await session.get(ForumTopic, (chat_id, thread_id))
    if topic is None or not topic.subscribed:
        return False
    now = utcnow()
    topic.subscribed = False
    topic.active = False
    topic.stop_reason = StopReason.UNSUBSCRIBED
    topic.stopped_at = now
    topic.updated_at = now
    session.add(topic)
    await session.flush()
    await _close_idle_chat(session, chat_id)
    return True


async def mark_topic_stopped(
    session: AsyncSession, *, chat_id: int, thread_id: int, reason: StopReason
) -> bool:
    """End the topic's pushes because Telegram says it is closed or gone (the subscribed flag
    stays, as history); True when it was receiving pushes until now, so each end counts once."""
    topic = await session.get(ForumTopic, (chat_id, thread_id))
    if topic is None:
        return False
    was_active = stop_receiving(topic, reason)
    session.add(topic)
    await session.flush()
    await _close_idle_chat(session, chat_id)
    return was_active


async def _open_chat(session: AsyncSession, chat_id: int) -> bool:
    """Make the topic's chat receive pushes; True when it did not until now."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise UnknownChatError(chat_id)
    if chat.active:
        return False
    chat.active = True
    chat.updated_at = utcnow()
    if chat.subscribed:
        # The group's own subscription had stopped (the bot removed, say): it resumes too.
        chat.stop_reason = None
        chat.stopped_at = None
    session.add(chat)
    await session.flush()
    if chat.subscribed:
        await record_subscription(session, chat_id=chat_id, chat_kind=chat.kind, subscribed=True)
    return True


async def _close_idle_chat(session: AsyncSession, chat_id: int) -> None:
    """A chat not subscribed itself stops being active once none of its topics receives."""
    chat = await session.get(Chat, chat_id)
    if chat is None or chat.subscribed or not chat.active:
        return
    if await has_receiving_topics(session, chat_id=chat_id):
        return
    chat.active = False
    chat.updated_at = utcnow()
    session.add(chat)
    await session.flush()


async def get_topic(session: AsyncSession, *, chat_id: int, thread_id: int) -> ForumTopic | None:
    return await session.get(ForumTopic, (chat_id, thread_id))


@dataclass(frozen=True)
class TopicCounts:
    """What /stats says of forum topics: how many receive pushes, and why the others ended."""

    subscribed: int
    ended: dict[StopReason, int]


async def topic_counts(session: AsyncSession) -> TopicCounts:
    """Topics receiving pushes (their group too), and ended topic subscriptions by reason."""
    receiving = (
        select(sa.func.count())
        .select_from(ForumTopic)
        .join(Chat, col(Chat.id) == col(ForumTopic.chat_id))
        .where(
            col(ForumTopic.subscribed).is_(True),
            col(ForumTopic.active).is_(True),
            col(Chat.active).is_(True),
        )
    )
    ended = (
        select(col(ForumTopic.stop_reason), sa.func.count())
        .where(col(ForumTopic.active).is_(False), col(ForumTopic.stop_reason).is_not(None))
        .group_by(col(ForumTopic.stop_reason))
    )
    return TopicCounts(
        subscribed=int((await session.exec(receiving)).one()),
        ended={
            StopReason(reason): count
            for reason, count in await session.exec(ended)
            if reason is not None
        },
    )
