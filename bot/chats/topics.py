"""Forum topics subscribed on their own: which topic a command was sent in, and what /subscribe
and /unsubscribe sent there do and answer.

In a forum supergroup a command sent inside a topic (``is_topic_message``) is about that topic;
one sent in the General topic carries no thread and is about the group, as in any other group.
The answer goes back into the topic it was asked in (python-telegram-bot's ``reply_text`` keeps
the thread).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Message

from storage import forum_topics
from storage.chats import SubscribeResult

TOPIC_SUBSCRIBED = "✅ Subscribed. New articles will arrive in this topic."
TOPIC_ALREADY_SUBSCRIBED = "This topic is already subscribed."
TOPIC_RESUBSCRIBED = "✅ Welcome back: new articles will arrive in this topic again."
TOPIC_UNSUBSCRIBED = "This topic is unsubscribed. Send /subscribe here any time to come back."
TOPIC_NOT_SUBSCRIBED = "This topic is not subscribed, so there is nothing to stop."

_SUBSCRIBE_REPLIES = {
    SubscribeResult.SUBSCRIBED: TOPIC_SUBSCRIBED,
    SubscribeResult.ALREADY_SUBSCRIBED: TOPIC_ALREADY_SUBSCRIBED,
    SubscribeResult.RESUBSCRIBED: TOPIC_RESUBSCRIBED,
}


def topic_of(message: Message) -> int | None:
    """The forum topic the message was sent in; None outside forums and in the General topic."""
    # Outside forums a thread id only names a chain of replies, never a topic.
    if not message.chat.is_forum or not message.is_topic_message:
        return None
    return message.message_thread_id


def replied_to(message: Message) -> Message | None:
    """The message this one answers; inside a topic, Telegram names the topic's opening message
    as the one answered when nothing was replied to, and that does not count."""
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None
    return reply


def topic_title(message: Message) -> str | None:
    """The topic's name, when Telegram sent its opening message along (it usually does)."""
    opening = message.reply_to_message
    if opening is None or opening.forum_topic_created is None:
        return None
    return opening.forum_topic_created.name


async def switch_topic(
    session: AsyncSession,
    *,
    chat_id: int,
    thread_id: int,
    title: str | None,
    subscribe: bool,
) -> str:
    """Opt the topic in or out (its chat stored already); what to tell whoever asked."""
    if subscribe:
        result = await forum_topics.subscribe_topic(
            session, chat_id=chat_id, thread_id=thread_id, title=title
        )
        return _SUBSCRIBE_REPLIES[result]
    stopped = await forum_topics.unsubscribe_topic(session, chat_id=chat_id, thread_id=thread_id)
    return TOPIC_UNSUBSCRIBED if stopped else TOPIC_NOT_SUBSCRIBED
