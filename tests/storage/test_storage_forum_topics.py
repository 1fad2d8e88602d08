"""Forum topics' own subscriptions as stored: subscribing keeps the forum receiving, ending one
topic leaves the group and its other topics alone, counts for /stats, and topics following their
chat when it is deleted or given another id."""

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from storage.chats import (
    SubscribeResult,
    UnknownChatError,
    get_chat,
    mark_chat_stopped,
    subscribe_chat,
    unsubscribe_chat,
    upsert_chat,
)
from storage.engine import Database
from storage.forum_topics import (
    TopicCounts,
    get_topic,
    mark_topic_stopped,
    subscribe_topic,
    topic_counts,
    unsubscribe_topic,
)
from storage.models import Chat, ChatKind, ForumTopic, StopReason, SubscriptionEvent

FORUM_ID = -1_002_100_000_001
SPORTS, CULTURE = 11, 12


@pytest.fixture(name="forum_db")
async def fixture_forum_db(db: Database) -> Database:
    """A migrated database that knows one forum supergroup, not subscribed itself."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=FORUM_ID, kind=ChatKind.SUPERGROUP, title="Forum")
    return db


async def _chat(db: Database) -> Chat:
    async with db.transaction() as session:
        chat = await get_chat(session, chat_id=FORUM_ID)
    assert chat is not None
    return chat


async def test_a_topic_subscribes_and_keeps_its_forum_receiving(forum_db: Database) -> None:
    """The first topic makes the forum active (not subscribed itself, no subscription event);
    the second time is "already"; the title is kept."""
    async with forum_db.transaction() as session:
        first = await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS, title="Sports")
        again = await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        topic = await get_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        events = (await session.exec(select(SubscriptionEvent))).all()
    assert (first, again) == (SubscribeResult.SUBSCRIBED, SubscribeResult.ALREADY_SUBSCRIBED)
    assert topic is not None
    assert (topic.title, topic.subscribed, topic.active) == ("Sports", True, True)
    chat = await _chat(forum_db)
    assert (chat.subscribed, chat.active) == (False, True)
    assert events == []


async def test_an_unknown_chat_is_refused(db: Database) -> None:
    """A topic of a chat with no row is refused, and nothing is stored."""
    with pytest.raises(UnknownChatError):
        async with db.transaction() as session:
            await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
    async with db.transaction() as session:
        assert (await session.exec(select(ForumTopic))).all() == []


async def test_a_closed_topic_ends_alone(forum_db: Database) -> None:
    """Closing one topic ends it with its reason (once), the other topic and the forum go on;
    when the last one ends, the forum (not subscribed itself) stops being active."""
    async with forum_db.transaction() as session:
        for thread in (SPORTS, CULTURE):
            await subscribe_topic(session, chat_id=FORUM_ID, thread_id=thread)
        first = await mark_topic_stopped(
            session, chat_id=FORUM_ID, thread_id=CULTURE, reason=StopReason.TOPIC_CLOSED
        )
        second = await mark_topic_stopped(
            session, chat_id=FORUM_ID, thread_id=CULTURE, reason=StopReason.TOPIC_CLOSED
        )
        culture = await get_topic(session, chat_id=FORUM_ID, thread_id=CULTURE)
        sports = await get_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
    assert (first, second) == (True, False)
    assert culture is not None
    assert (culture.active, culture.stop_reason) == (False, StopReason.TOPIC_CLOSED)
    assert sports is not None
    assert sports.active
    assert (await _chat(forum_db)).active

    async with forum_db.transaction() as session:
        await mark_topic_stopped(
            session, chat_id=FORUM_ID, thread_id=SPORTS, reason=StopReason.TOPIC_DELETED
        )
        counts = await topic_counts(session)
    assert not (await _chat(forum_db)).active
    assert counts == TopicCounts(
        subscribed=0, ended={StopReason.TOPIC_CLOSED: 1, StopReason.TOPIC_DELETED: 1}
    )


async def test_the_group_leaving_keeps_its_topics(forum_db: Database) -> None:
    """/unsubscribe in the General topic ends the group's own subscription only: with a topic
    still subscribed the forum stays active; /unsubscribe of that topic then ends the rest."""
    async with forum_db.transaction() as session:
        await subscribe_chat(session, chat_id=FORUM_ID)
        await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        assert await unsubscribe_chat(session, chat_id=FORUM_ID)
    chat = await _chat(forum_db)
    assert (chat.subscribed, chat.active, chat.stop_reason) == (
        False,
        True,
        StopReason.UNSUBSCRIBED,
    )
    async with forum_db.transaction() as session:
        assert await unsubscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        assert not await unsubscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        counts = await topic_counts(session)
    assert not (await _chat(forum_db)).active
    assert counts == TopicCounts(subscribed=0, ended={StopReason.UNSUBSCRIBED: 1})


async def test_a_topic_subscribing_again_brings_back_a_stopped_group(forum_db: Database) -> None:
    """The bot removed stops the group and its topics; a topic's /subscribe once it is back
    says "welcome back" and the group's own subscription resumes too, recorded as such."""
    async with forum_db.transaction() as session:
        await subscribe_chat(session, chat_id=FORUM_ID)
        await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        await mark_chat_stopped(session, chat_id=FORUM_ID, reason=StopReason.KICKED)
        assert (await topic_counts(session)).subscribed == 0
        result = await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        events = (
            await session.exec(
                select(col(SubscriptionEvent.subscribed)).order_by(col(SubscriptionEvent.id))
            )
        ).all()
        counts = await topic_counts(session)
    assert result is SubscribeResult.RESUBSCRIBED
    chat = await _chat(forum_db)
    assert (chat.subscribed, chat.active, chat.stop_reason) == (True, True, None)
    assert events == [True, False, True]
    assert counts.subscribed == 1


async def test_topics_follow_their_chat_to_a_new_id_and_away(forum_db: Database) -> None:
    """The chat's id changed in place takes its topics along; the chat deleted takes them away."""
    moved = FORUM_ID - 1
    async with forum_db.transaction() as session:
        await subscribe_topic(session, chat_id=FORUM_ID, thread_id=SPORTS)
        await session.exec(sa.update(Chat).where(col(Chat.id) == FORUM_ID).values(id=moved))
    async with forum_db.transaction() as session:
        kept = (await session.exec(select(col(ForumTopic.chat_id)))).all()
        await session.exec(sa.delete(Chat).where(col(Chat.id) == moved))
    async with forum_db.transaction() as session:
        left = (await session.exec(select(ForumTopic))).all()
    assert kept == [moved]
    assert left == []
