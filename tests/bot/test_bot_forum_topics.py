"""Forum topics through the emulator: /subscribe inside a topic, cards and live totals in two
topics of one forum group, a closed or deleted topic ending only its own subscription, the
General topic as the group itself, and broadcasts into topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from bot_articles_support import NewsSite, final_status, reply_after, run_bot
from harness import BOT_TOKEN, RunningBot, quicken_private_chats, wait_until
from sqlmodel import col, select

from bot.articles.handlers import FETCHING
from bot.chats.subscription import GROUP_ADMINS_ONLY, SUBSCRIBED, UNSUBSCRIBED
from bot.chats.topics import (
    TOPIC_ALREADY_SUBSCRIBED,
    TOPIC_NOT_SUBSCRIBED,
    TOPIC_RESUBSCRIBED,
    TOPIC_SUBSCRIBED,
    TOPIC_UNSUBSCRIBED,
)
from emulator.simulation import Emulator, ForumTopic, SimChat, SimMessage, SimUser
from storage import chats, forum_topics
from storage.models import Delivery, DeliveryStatus, StopReason


@pytest.fixture(name="bot")
async def fixture_bot(emulator: Emulator, database_url: str) -> AsyncIterator[RunningBot]:
    """The bot reading the local news site, polling the emulator; private chats paced quicker
    (these tests check where things go, not their pace; groups keep Telegram's)."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    async with run_bot(emulator, account, admin, database_url) as running:
        quicken_private_chats(running)
        yield running


@dataclass
class Forum:
    """A forum group run by Gus, with the bot as a plain member and two readers."""

    chat: SimChat
    owner: SimUser
    readers: list[SimUser]


@pytest.fixture(name="forum")
async def fixture_forum(bot: RunningBot) -> Forum:
    emu = bot.emulator
    owner = emu.create_user("Gus")
    readers = [emu.create_user("Lea"), emu.create_user("Tom")]
    chat = emu.create_forum("Harbour forum", creator=owner, members=readers)
    await emu.add_bot_to_chat(chat, by=owner)
    return Forum(chat, owner, readers)


async def _command(
    bot: RunningBot,
    forum: Forum,
    text: str,
    topic: ForumTopic | None,
    *,
    by: SimUser | None = None,
) -> SimMessage:
    """Someone (the forum's owner by default) sends a command in the topic; the bot's answer."""
    emu = bot.emulator
    sent = await emu.send_message(by or forum.owner, text, chat=forum.chat, topic=topic)
    return await emu.wait_for_bot_message(forum.chat, after=sent.message_id, timeout=10)


async def _publish(bot: RunningBot, address: str) -> str:
    emu = bot.emulator
    chat = emu.private_chat(bot.admin)
    sent = await emu.send_message(bot.admin, f"/publish {address}")
    status = await reply_after(emu, chat, sent.message_id)
    assert status.text == FETCHING
    return await final_status(emu, status)


def _cards(emu: Emulator, forum: Forum, topic: ForumTopic | None) -> list[SimMessage]:
    """The bot's messages with a poll keyboard in one topic (None: the General topic)."""
    return [
        m
        for m in emu.topic_messages(forum.chat, topic)
        if m.from_bot and any("callback_data" in b for row in m.buttons for b in row)
    ]


def _labels(message: SimMessage) -> list[str]:
    return [str(button["text"]) for row in message.buttons for button in row]


async def _delivery(bot: RunningBot, *, chat_id: int, thread_id: int, article_id: int) -> Delivery:
    """The article's delivery row for the topic, once it has ended one way or the other."""

    async def ended() -> Delivery | None:
        async with bot.db.transaction() as session:
            row = (
                await session.exec(
                    select(Delivery).where(
                        col(Delivery.chat_id) == chat_id,
                        col(Delivery.thread_id) == thread_id,
                        col(Delivery.article_id) == article_id,
                    )
                )
            ).first()
        if row is None or row.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            return None
        return row

    return await wait_until(ended, timeout=15, what=f"article {article_id} to topic {thread_id}")


async def _stats(bot: RunningBot) -> str:
    emu = bot.emulator
    chat = emu.private_chat(bot.admin)
    sent = await emu.send_message(bot.admin, "/stats")
    reply = await emu.wait_for(
        lambda: next(
            (
                m
                for m in emu.bot_messages(chat)
                if m.message_id > sent.message_id and "Forum topics" in (m.text or "")
            ),
            None,
        ),
        timeout=10,
        what="the /stats answer",
    )
    return reply.text or ""


async def test_two_topics_get_cards_with_live_totals_until_one_is_closed(
    bot: RunningBot, forum: Forum, site: NewsSite
) -> None:
    """Topics Sports and Culture each /subscribe, and the General topic subscribes the group:
    each gets the card in its own topic, a vote in Sports shows on the copy in Culture; once
    Culture is closed the next article fails there with TOPIC_CLOSED and ends only Culture's
    subscription, while Sports and General still get it, and /stats counts it."""
    emu, chat = bot.emulator, forum.chat
    sports = emu.create_topic(chat, "Sports", by=forum.owner)
    culture = emu.create_topic(chat, "Culture", by=forum.owner)
    for topic in (sports, culture):
        answer = await _command(bot, forum, "/subscribe", topic)
        assert (answer.text, answer.thread_id) == (TOPIC_SUBSCRIBED, topic.thread_id)
    general = await _command(bot, forum, "/subscribe", None)
    assert (general.text, general.thread_id) == (SUBSCRIBED, None)

    outcome = await _publish(bot, site.url("/story"))
    assert outcome.startswith("Published article 1: queued for 3 chats.")
    card_sports, card_culture, card_general = [
        (await emu.wait_for(lambda t=t: _cards(emu, forum, t), timeout=10))[0]
        for t in (sports, culture, None)
    ]
    sent_to = {
        r.params.get("message_thread_id")
        for r in emu.requests("sendMessage")
        if r.params.get("chat_id") == chat.id and r.status == 200
    }
    assert {sports.thread_id, culture.thread_id, None} <= sent_to
    # The card's photo sits in the same topic as its text.
    photos = [m for m in emu.bot_messages(chat) if m.photo]
    assert sorted(p.thread_id or 0 for p in photos) == sorted(
        [sports.thread_id, culture.thread_id, 0]
    )

    await emu.press_button(forum.readers[0], card_sports, text="Yes · 0")
    await emu.wait_for(
        lambda: "Yes · 1" in _labels(card_culture) and "Yes · 1" in _labels(card_general),
        timeout=10,
        what="the vote in Sports on the copies in Culture and General",
    )

    emu.close_topic(chat, culture, by=forum.owner)
    outcome = await _publish(bot, site.url("/news/ferry-timetable"))
    assert outcome.startswith("Published article 2: queued for 3 chats.")
    closed = await _delivery(bot, chat_id=chat.id, thread_id=culture.thread_id, article_id=2)
    assert (closed.status, closed.failure) == (DeliveryStatus.FAILED, "topic_closed")
    assert closed.attempts == 1
    for topic in (sports, None):
        await emu.wait_for(lambda t=topic: len(_cards(emu, forum, t)) == 2, timeout=10)
    assert len(_cards(emu, forum, culture)) == 1
    async with bot.db.transaction() as session:
        ended = await forum_topics.get_topic(session, chat_id=chat.id, thread_id=culture.thread_id)
        still = await forum_topics.get_topic(session, chat_id=chat.id, thread_id=sports.thread_id)
        group = await chats.get_chat(session, chat_id=chat.id)
    assert ended is not None
    assert (ended.subscribed, ended.active, ended.stop_reason) == (
        True,
        False,
        StopReason.TOPIC_CLOSED,
    )
    assert ended.stopped_at is not None
    assert ended.title == "Culture"
    assert still is not None
    assert still.active
    assert group is not None
    assert (group.subscribed, group.active, group.stop_reason) == (True, True, None)

    numbers = await _stats(bot)
    assert "Forum topics subscribed: 1; ended: topic_closed 1" in numbers
    assert "topic_closed 1" in numbers.split("Failures by reason:")[1]


async def test_a_deleted_topic_ends_its_subscription_and_no_other(
    bot: RunningBot, forum: Forum, site: NewsSite
) -> None:
    """A subscribed topic deleted in Telegram: the next article's send there answers "message
    thread not found", the row fails once with topic_deleted and the topic's subscription ends;
    the other topic still gets the card."""
    emu, chat = bot.emulator, forum.chat
    notes = emu.create_topic(chat, "Notes", by=forum.owner)
    news = emu.create_topic(chat, "News", by=forum.owner)
    for topic in (notes, news):
        assert (await _command(bot, forum, "/subscribe", topic)).text == TOPIC_SUBSCRIBED
    emu.delete_topic(chat, notes, by=forum.owner)

    await _publish(bot, site.url("/story"))
    gone = await _delivery(bot, chat_id=chat.id, thread_id=notes.thread_id, article_id=1)
    assert (gone.status, gone.failure, gone.attempts) == (
        DeliveryStatus.FAILED,
        "topic_deleted",
        1,
    )
    assert "message thread not found" in (gone.last_error or "").lower()
    await emu.wait_for(lambda: _cards(emu, forum, news), timeout=10)
    async with bot.db.transaction() as session:
        topic = await forum_topics.get_topic(session, chat_id=chat.id, thread_id=notes.thread_id)
        counts = await forum_topics.topic_counts(session)
    assert topic is not None
    assert (topic.active, topic.stop_reason) == (False, StopReason.TOPIC_DELETED)
    assert counts.subscribed == 1
    assert counts.ended == {StopReason.TOPIC_DELETED: 1}


async def test_subscribing_a_topic_twice_unsubscribing_and_a_member_refused(
    bot: RunningBot, forum: Forum
) -> None:
    """In a topic: /subscribe twice is "already", /unsubscribe ends it and a second one has
    nothing to stop; a member who is not an admin is refused; the group itself stays as it was."""
    emu, chat = bot.emulator, forum.chat
    topic = emu.create_topic(chat, "Sports", by=forum.owner)
    refusal = await _command(bot, forum, "/subscribe", topic, by=forum.readers[0])
    assert (refusal.text, refusal.thread_id) == (GROUP_ADMINS_ONLY, topic.thread_id)
    answers = [
        (await _command(bot, forum, command, topic)).text
        for command in ("/subscribe", "/subscribe", "/unsubscribe", "/unsubscribe")
    ]
    assert answers == [
        TOPIC_SUBSCRIBED,
        TOPIC_ALREADY_SUBSCRIBED,
        TOPIC_UNSUBSCRIBED,
        TOPIC_NOT_SUBSCRIBED,
    ]
    async with bot.db.transaction() as session:
        stored = await forum_topics.get_topic(session, chat_id=chat.id, thread_id=topic.thread_id)
        group = await chats.get_chat(session, chat_id=chat.id)
    assert stored is not None
    assert (stored.subscribed, stored.active, stored.stop_reason) == (
        False,
        False,
        StopReason.UNSUBSCRIBED,
    )
    assert group is not None
    assert not group.subscribed


async def test_broadcasts_reach_topics_as_text_and_as_copies(
    bot: RunningBot, forum: Forum
) -> None:
    """A text broadcast and a broadcast copying the admin's message both land in the subscribed
    topic, sent with its message_thread_id."""
    emu, chat = bot.emulator, forum.chat
    topic = emu.create_topic(chat, "Sports", by=forum.owner)
    assert (await _command(bot, forum, "/subscribe", topic)).text == TOPIC_SUBSCRIBED
    admin_chat = emu.private_chat(bot.admin)

    async def broadcast(text: str, reply_to: SimMessage | None = None) -> None:
        sent = await emu.send_message(bot.admin, text, reply_to=reply_to)
        summary = await emu.wait_for(
            lambda: next(
                (
                    m
                    for m in emu.bot_messages(admin_chat)
                    if m.message_id > sent.message_id and "Send" in _labels(m)
                ),
                None,
            ),
            timeout=10,
        )
        await emu.press_button(bot.admin, summary, text="Send")

    await broadcast("/broadcast Match moved to Sunday")
    original = await emu.send_message(bot.admin, "Tickets on sale at noon")
    await broadcast("/broadcast", reply_to=original)
    await emu.wait_for(
        lambda: (
            [m.text for m in emu.topic_messages(chat, topic) if m.from_bot][-2:]
            == ["Match moved to Sunday", "Tickets on sale at noon"]
        ),
        timeout=15,
        what="both broadcasts in the topic",
    )
    copies = [r for r in emu.requests("copyMessage") if r.params.get("chat_id") == chat.id]
    assert [r.params.get("message_thread_id") for r in copies] == [topic.thread_id]


async def test_the_bot_removed_ends_the_group_and_its_topics_until_asked_again(
    bot: RunningBot, forum: Forum, site: NewsSite
) -> None:
    """The bot removed from the forum: nothing is queued for its topics and /stats no longer
    counts them; added back, a /subscribe in the topic welcomes it back and the next article
    lands there."""
    emu, chat = bot.emulator, forum.chat
    topic = emu.create_topic(chat, "Sports", by=forum.owner)
    assert (await _command(bot, forum, "/subscribe", topic)).text == TOPIC_SUBSCRIBED
    await emu.remove_bot_from_chat(chat, by=forum.owner)

    async def stopped() -> bool:
        async with bot.db.transaction() as session:
            group = await chats.get_chat(session, chat_id=chat.id)
        return group is not None and not group.active

    await wait_until(stopped, what="the group to stop")
    outcome = await _publish(bot, site.url("/story"))
    assert outcome.startswith("Published article 1: queued for 0 chats.")
    assert "Forum topics subscribed: 0; ended: none" in await _stats(bot)

    await emu.add_bot_to_chat(chat, by=forum.owner)
    assert (await _command(bot, forum, "/subscribe", topic)).text == TOPIC_RESUBSCRIBED
    outcome = await _publish(bot, site.url("/news/ferry-timetable"))
    assert outcome.startswith("Published article 2: queued for 1 chat")
    await emu.wait_for(lambda: _cards(emu, forum, topic), timeout=10)
    sent = await _delivery(bot, chat_id=chat.id, thread_id=topic.thread_id, article_id=2)
    assert sent.status is DeliveryStatus.SENT


async def test_the_general_topic_leaving_keeps_the_topics(
    bot: RunningBot, forum: Forum, site: NewsSite
) -> None:
    """/unsubscribe in the General topic ends the group's own subscription only: the card still
    arrives in the subscribed topic, and not in General."""
    emu, chat = bot.emulator, forum.chat
    topic = emu.create_topic(chat, "Sports", by=forum.owner)
    assert (await _command(bot, forum, "/subscribe", None)).text == SUBSCRIBED
    assert (await _command(bot, forum, "/subscribe", topic)).text == TOPIC_SUBSCRIBED
    assert (await _command(bot, forum, "/unsubscribe", None)).text == UNSUBSCRIBED

    outcome = await _publish(bot, site.url("/story"))
    assert outcome.startswith("Published article 1: queued for 1 chat")
    await emu.wait_for(lambda: _cards(emu, forum, topic), timeout=10)
    assert _cards(emu, forum, None) == []


async def test_a_broadcast_written_in_a_topic_is_its_text(bot: RunningBot, forum: Forum) -> None:
    """/broadcast <text> sent inside a topic previews that text in the admin's private chat:
    the topic's opening message, which Telegram names as the one it answers, is not copied."""
    emu, chat = bot.emulator, forum.chat
    admin_chat = emu.private_chat(bot.admin)
    started = await emu.send_message(bot.admin, "/start")
    await emu.wait_for_bot_message(admin_chat, after=started.message_id)
    await emu.set_member_status(chat, bot.admin, "member")
    topic = emu.create_topic(chat, "Sports", by=forum.owner)
    sent = await emu.send_message(bot.admin, "/broadcast Ferry news", chat=chat, topic=topic)
    assert sent.to_api()["reply_to_message"]["message_id"] == topic.thread_id
    summary = await emu.wait_for(
        lambda: next((m for m in emu.bot_messages(admin_chat) if "Send" in _labels(m)), None),
        timeout=10,
        what="the broadcast preview",
    )
    preview = emu.bot_messages(admin_chat)[-2]
    assert (preview.text, preview.message_id) == ("Ferry news", summary.message_id - 1)
    assert summary.text is not None
    assert summary.text.startswith("Broadcast #1")
    assert emu.requests("copyMessage") == []
