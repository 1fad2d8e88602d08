"""Forum supergroups through the real client: topics made, closed, reopened and deleted, messages
landing in the topic they name, and Telegram's refusals for gone, closed and forbidden topics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from telegram import Bot, Message, ReplyParameters, Update
from telegram.error import BadRequest

from emulator.simulation import BotAccount, Emulator, ForumTopic, SimChat, SimUser

# What the bot may do in the forums of these tests, as an admin who manages topics.
MANAGER_RIGHTS = {"can_manage_chat": True, "can_manage_topics": True, "can_delete_messages": True}


@pytest.fixture(name="owner")
def owner_fixture(emu: Emulator) -> SimUser:
    """Fern, who owns the forum."""
    return emu.create_user("Fern", username="fern")


@pytest.fixture(name="forum")
async def forum_fixture(emu: Emulator, owner: SimUser, account: BotAccount) -> SimChat:
    """A forum supergroup with the bot in it as a plain member."""
    forum = emu.create_forum("Harbour forum", creator=owner)
    await emu.add_bot_to_chat(forum, by=owner, bot=account)
    return forum


@pytest.fixture(name="sports")
def sports_fixture(emu: Emulator, forum: SimChat, owner: SimUser) -> ForumTopic:
    """The forum's "Sports" topic, opened by its owner."""
    return emu.create_topic(forum, "Sports", by=owner)


async def drain(bot: Bot) -> tuple[Update, ...]:
    """Every pending update, confirmed."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


async def test_a_forum_says_so_in_get_chat(emu: Emulator, bot: Bot, forum: SimChat) -> None:
    """getChat reports is_forum for a forum and not for a plain supergroup."""
    plain = emu.create_group("Plain", creator=emu.create_user("Pia"), supergroup=True)
    await emu.add_bot_to_chat(plain, by=next(iter(plain.members.values())).user)
    assert (await bot.get_chat(forum.id)).is_forum is True
    assert not (await bot.get_chat(plain.id)).is_forum


async def test_a_topic_opened_and_written_in_reaches_the_bot(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser
) -> None:
    """The bot gets forum_topic_created, then the message written inside the topic with its
    thread id, is_topic_message and the topic's opening message as the one it answers."""
    await drain(bot)
    topic = emu.create_topic(forum, "Sports", by=owner)
    await emu.send_message(owner, "/subscribe", chat=forum, topic=topic)
    created, written = (u.message for u in await drain(bot))
    assert created is not None
    assert written is not None
    assert created.forum_topic_created is not None
    assert created.forum_topic_created.name == "Sports"
    assert created.message_thread_id == topic.thread_id == created.message_id
    assert (written.text, written.message_thread_id, written.is_topic_message) == (
        "/subscribe",
        topic.thread_id,
        True,
    )
    assert written.reply_to_message is not None
    assert written.reply_to_message.message_id == topic.thread_id


async def test_a_message_in_the_general_topic_has_no_thread(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser, sports: ForumTopic
) -> None:
    """Written without a topic, a forum message is in General: no thread, not a topic message."""
    await drain(bot)
    await emu.send_message(owner, "/subscribe", chat=forum)
    (update,) = await drain(bot)
    assert update.message is not None
    assert update.message.message_thread_id is None
    assert not update.message.is_topic_message
    assert emu.topic_messages(forum, None)[-1].text == "/subscribe"
    assert emu.topic_messages(forum, sports) == [forum.messages[sports.thread_id]]


async def test_closing_and_reopening_reach_the_bot_inside_the_topic(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser, sports: ForumTopic
) -> None:
    """forum_topic_closed and forum_topic_reopened arrive as service messages in the topic."""
    await drain(bot)
    emu.close_topic(forum, sports, by=owner)
    emu.reopen_topic(forum, sports, by=owner)
    closed, reopened = (u.message for u in await drain(bot))
    assert closed is not None
    assert reopened is not None
    assert closed.forum_topic_closed is not None
    assert reopened.forum_topic_reopened is not None
    assert closed.message_thread_id == reopened.message_thread_id == sports.thread_id


Send = Callable[[Bot, SimChat, int | None], Awaitable[Message | int]]


async def _send_message(bot: Bot, chat: SimChat, thread: int | None) -> Message:
    return await bot.send_message(chat.id, "Kick-off at six", message_thread_id=thread)


async def _send_photo(bot: Bot, chat: SimChat, thread: int | None) -> Message:
    return await bot.send_photo(chat.id, b"\x89PNG fake", caption="Goal", message_thread_id=thread)


async def _send_document(bot: Bot, chat: SimChat, thread: int | None) -> Message:
    return await bot.send_document(
        chat.id, b"team,goals\r\n", filename="table.csv", message_thread_id=thread
    )


async def _copy_message(bot: Bot, chat: SimChat, thread: int | None) -> int:
    source = await bot.send_message(chat.id, "Original")
    copied = await bot.copy_message(chat.id, chat.id, source.message_id, message_thread_id=thread)
    return copied.message_id


async def _forward_message(bot: Bot, chat: SimChat, thread: int | None) -> Message:
    source = await bot.send_message(chat.id, "Original")
    return await bot.forward_message(chat.id, chat.id, source.message_id, message_thread_id=thread)


SENDS: dict[str, Send] = {
    "sendMessage": _send_message,
    "sendPhoto": _send_photo,
    "sendDocument": _send_document,
    "copyMessage": _copy_message,
    "forwardMessage": _forward_message,
}


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
async def test_every_send_lands_in_the_topic_it_names(
    emu: Emulator, bot: Bot, forum: SimChat, sports: ForumTopic, send: Send
) -> None:
    """Each send method puts its message in the named topic, and says so in its answer."""
    sent = await send(bot, forum, sports.thread_id)
    message_id = sent if isinstance(sent, int) else sent.message_id
    if isinstance(sent, Message):
        assert (sent.message_thread_id, sent.is_topic_message) == (sports.thread_id, True)
    assert forum.messages[message_id].thread_id == sports.thread_id
    assert forum.messages[message_id] in emu.topic_messages(forum, sports)


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
async def test_a_deleted_topic_is_not_found(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser, *, sports: ForumTopic, send: Send
) -> None:
    """After the topic is deleted, a send to it answers "message thread not found"."""
    emu.delete_topic(forum, sports, by=owner)
    with pytest.raises(BadRequest, match=r"(?i)^message thread not found$"):
        await send(bot, forum, sports.thread_id)


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
async def test_a_closed_topic_refuses_the_bot(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser, *, sports: ForumTopic, send: Send
) -> None:
    """A send into a closed topic answers TOPIC_CLOSED, and nothing lands there."""
    emu.close_topic(forum, sports, by=owner)
    before = len(emu.topic_messages(forum, sports))
    with pytest.raises(BadRequest, match=r"(?i)^topic_closed$"):
        await send(bot, forum, sports.thread_id)
    assert len(emu.topic_messages(forum, sports)) == before


async def test_an_unknown_thread_is_not_found(bot: Bot, forum: SimChat) -> None:
    """A thread id no topic ever had answers "message thread not found"."""
    with pytest.raises(BadRequest, match=r"(?i)^message thread not found$"):
        await bot.send_message(forum.id, "Anyone?", message_thread_id=9999)


async def test_an_admin_who_manages_topics_still_posts_in_a_closed_one(
    emu: Emulator,
    bot: Bot,
    forum: SimChat,
    owner: SimUser,
    *,
    sports: ForumTopic,
    account: BotAccount,
) -> None:
    """As in Telegram, the right to manage topics lets the bot write in a closed topic."""
    await emu.set_member_status(forum, account, "administrator", rights=MANAGER_RIGHTS)
    emu.close_topic(forum, sports, by=owner)
    sent = await bot.send_message(forum.id, "Final score", message_thread_id=sports.thread_id)
    assert sent.message_thread_id == sports.thread_id


async def test_without_a_thread_a_forum_send_goes_to_general(
    emu: Emulator, bot: Bot, forum: SimChat, sports: ForumTopic
) -> None:
    """No thread id: the General topic, with no thread in the answer."""
    sent = await bot.send_message(forum.id, "Welcome")
    assert sent.message_thread_id is None
    assert forum.messages[sent.message_id] in emu.topic_messages(forum, None)
    assert forum.messages[sent.message_id] not in emu.topic_messages(forum, sports)


async def test_outside_forums_a_thread_id_is_ignored(
    emu: Emulator, bot: Bot, owner: SimUser, account: BotAccount
) -> None:
    """In a group without topics the message lands in the chat itself, with no thread."""
    group = emu.create_group("Plain", creator=owner, supergroup=True)
    await emu.add_bot_to_chat(group, by=owner, bot=account)
    sent = await bot.send_message(group.id, "Hello", message_thread_id=77)
    assert sent.message_thread_id is None
    assert group.messages[sent.message_id].thread_id is None


async def test_the_bot_creates_a_topic_with_the_right_to(
    emu: Emulator, bot: Bot, forum: SimChat, account: BotAccount
) -> None:
    """createForumTopic needs can_manage_topics; then it returns the topic, opened by its
    service message, and the bot may post there."""
    with pytest.raises(BadRequest, match=r"(?i)^not enough rights to create a topic$"):
        await bot.create_forum_topic(forum.id, "Weather")
    await emu.set_member_status(forum, account, "administrator", rights=MANAGER_RIGHTS)
    topic = await bot.create_forum_topic(forum.id, "Weather", icon_color=16766590)
    assert (topic.name, topic.icon_color) == ("Weather", 16766590)
    opening = forum.messages[topic.message_thread_id]
    assert opening.service == {"forum_topic_created": {"name": "Weather", "icon_color": 16766590}}
    sent = await bot.send_message(forum.id, "Sunny", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id


async def test_create_topic_refusals(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser, account: BotAccount
) -> None:
    """Not a forum, a blank name, or an icon colour the Bot API does not list: each refused."""
    plain = emu.create_group("Plain", creator=owner, supergroup=True)
    await emu.add_bot_to_chat(plain, by=owner, admin=True, bot=account)
    with pytest.raises(BadRequest, match=r"(?i)^the chat is not a forum$"):
        await bot.create_forum_topic(plain.id, "Weather")
    await emu.set_member_status(forum, account, "administrator", rights=MANAGER_RIGHTS)
    with pytest.raises(BadRequest, match=r"(?i)^title must be non-empty$"):
        await bot.create_forum_topic(forum.id, "   ")
    with pytest.raises(BadRequest, match=r"(?i)^invalid icon color specified$"):
        await bot.create_forum_topic(forum.id, "Weather", icon_color=123)
    long_name = await bot.create_forum_topic(forum.id, "W" * 200)
    assert long_name.name == "W" * 128


async def test_the_bot_closes_and_reopens_its_own_topic_without_the_right(
    emu: Emulator, bot: Bot, forum: SimChat, sports: ForumTopic, account: BotAccount
) -> None:
    """Others' topics need can_manage_topics; the topic the bot opened it may close itself;
    closing twice is TOPIC_NOT_MODIFIED; an unknown topic is TOPIC_ID_INVALID."""
    with pytest.raises(BadRequest, match=r"(?i)^not enough rights to close or open the topic$"):
        await bot.close_forum_topic(forum.id, sports.thread_id)
    await emu.set_member_status(forum, account, "administrator", rights=MANAGER_RIGHTS)
    own = await bot.create_forum_topic(forum.id, "Desk notes")
    await emu.set_member_status(forum, account, "member")
    assert await bot.close_forum_topic(forum.id, own.message_thread_id)
    assert forum.topics[own.message_thread_id].closed
    with pytest.raises(BadRequest, match=r"(?i)^topic_not_modified$"):
        await bot.close_forum_topic(forum.id, own.message_thread_id)
    assert await bot.reopen_forum_topic(forum.id, own.message_thread_id)
    assert not forum.topics[own.message_thread_id].closed
    with pytest.raises(BadRequest, match=r"(?i)^topic_id_invalid$"):
        await bot.reopen_forum_topic(forum.id, 9999)


async def test_deleting_a_topic_takes_its_messages(
    emu: Emulator, bot: Bot, forum: SimChat, sports: ForumTopic, account: BotAccount
) -> None:
    """deleteForumTopic needs can_delete_messages; the topic's messages go with it, so an edit
    of one finds nothing, and the topic is gone from the forum."""
    card = await bot.send_message(forum.id, "Card", message_thread_id=sports.thread_id)
    with pytest.raises(BadRequest, match=r"(?i)^not enough rights to delete the topic$"):
        await bot.delete_forum_topic(forum.id, sports.thread_id)
    await emu.set_member_status(forum, account, "administrator", rights=MANAGER_RIGHTS)
    assert await bot.delete_forum_topic(forum.id, sports.thread_id)
    assert sports.thread_id not in forum.topics
    assert emu.topic_messages(forum, sports) == []
    with pytest.raises(BadRequest, match=r"(?i)^message to edit not found$"):
        await bot.edit_message_text("Card, updated", chat_id=forum.id, message_id=card.message_id)


async def test_people_need_the_right_to_change_topics(
    emu: Emulator, forum: SimChat, owner: SimUser, sports: ForumTopic
) -> None:
    """A plain member may not open, close or delete topics, nor write in a closed one; a forum
    admin may do all of it."""
    member, admin = emu.create_user("Max"), emu.create_user("Ida")
    await emu.set_member_status(forum, member, "member")
    moderated = emu.create_forum("Moderated", creator=owner, admins=[admin])
    with pytest.raises(ValueError, match="may not manage topics"):
        emu.create_topic(forum, "Chatter", by=member)
    with pytest.raises(ValueError, match="may not close or reopen"):
        emu.close_topic(forum, sports, by=member)
    with pytest.raises(ValueError, match="may not delete topics"):
        emu.delete_topic(forum, sports, by=member)
    emu.close_topic(forum, sports, by=owner)
    with pytest.raises(ValueError, match="is closed"):
        await emu.send_message(member, "Hello?", chat=forum, topic=sports)
    await emu.send_message(owner, "Closed for the season", chat=forum, topic=sports)
    notes = emu.create_topic(moderated, "Notes", by=admin)
    emu.close_topic(moderated, notes, by=admin)
    await emu.send_message(admin, "Still here", chat=moderated, topic=notes)
    assert [m.text for m in emu.topic_messages(moderated, notes)][-1] == "Still here"


async def test_the_web_view_shows_topics_and_where_each_message_is(
    http: aiohttp.ClientSession,
) -> None:
    """The web view's JSON lists a forum's topics (closed ones marked) and each message's topic."""
    async with Emulator(web=True) as emulator:
        owner = emulator.create_user("Fern")
        forum = emulator.create_forum("Harbour forum", creator=owner)
        sports = emulator.create_topic(forum, "Sports", by=owner)
        culture = emulator.create_topic(forum, "Culture", by=owner)
        emulator.close_topic(forum, culture, by=owner)
        await emulator.send_message(owner, "Match tonight", chat=forum, topic=sports)
        await emulator.send_message(owner, "Hello all", chat=forum)
        async with http.get(f"{emulator.web_url}api/chats/{forum.id}/messages") as response:
            data = await response.json()
    assert data["chat"]["is_forum"] is True
    assert data["chat"]["topics"] == [
        {"id": sports.thread_id, "name": "Sports", "closed": False},
        {"id": culture.thread_id, "name": "Culture", "closed": True},
    ]
    shown = [(m["service"] or m["html"], m["topic"]) for m in data["messages"]]
    assert shown == [
        ("Fern created the topic Sports", "Sports"),
        ("Fern created the topic Culture", "Culture"),
        ("Fern closed the topic", "Culture"),
        ("Match tonight", "Sports"),
        ("Hello all", None),
    ]


async def test_a_reply_without_a_thread_lands_in_the_replied_messages_topic(
    emu: Emulator, bot: Bot, forum: SimChat, owner: SimUser, sports: ForumTopic
) -> None:
    """As Telegram infers it, a reply with no thread id goes to the topic of the message it
    answers; a reply into a closed topic is refused like any send there."""
    question = await emu.send_message(owner, "Who won?", chat=forum, topic=sports)
    sent = await bot.send_message(
        forum.id, "The home side", reply_parameters=ReplyParameters(question.message_id)
    )
    assert sent.message_thread_id == sports.thread_id
    emu.close_topic(forum, sports, by=owner)
    with pytest.raises(BadRequest, match=r"(?i)^topic_closed$"):
        await bot.send_message(
            forum.id, "Again", reply_parameters=ReplyParameters(question.message_id)
        )
