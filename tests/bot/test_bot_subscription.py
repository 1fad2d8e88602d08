"""/subscribe and /unsubscribe in private chats, groups and channels, through the emulator."""

from __future__ import annotations

import pytest
from harness import RunningBot

from bot.chats.subscription import (
    ALREADY_SUBSCRIBED,
    GROUP_ADMINS_ONLY,
    NOT_SUBSCRIBED,
    RESUBSCRIBED,
    SUBSCRIBED,
    UNSUBSCRIBED,
)
from storage import chats

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats


async def _subscribed(running_bot: RunningBot, chat_id: int) -> bool:
    async with running_bot.db.transaction() as session:
        chat = await chats.get_chat(session, chat_id=chat_id)
    return chat is not None and chat.subscribed and chat.active


async def test_private_subscribe_twice_and_unsubscribe_twice(running_bot: RunningBot) -> None:
    """Subscribing twice and unsubscribing twice each get the right answer and state."""
    emu = running_bot.emulator
    reader = emu.create_user("Lea")
    chat = emu.private_chat(reader)
    expected = [SUBSCRIBED, ALREADY_SUBSCRIBED, UNSUBSCRIBED, NOT_SUBSCRIBED, RESUBSCRIBED]
    commands = ["/subscribe", "/subscribe", "/unsubscribe", "/unsubscribe", "/subscribe"]
    subscribed_after = [True, True, False, False, True]
    last = 0
    for command, answer, state in zip(commands, expected, subscribed_after, strict=True):
        await emu.send_message(reader, command)
        reply = await emu.wait_for_bot_message(chat, after=last)
        last = reply.message_id
        assert reply.text == answer
        assert await _subscribed(running_bot, reader.id) is state


async def test_group_admin_subscribes_the_group(running_bot: RunningBot) -> None:
    """In a group an administrator may subscribe it; the group is then stored as subscribed."""
    emu = running_bot.emulator
    owner = emu.create_user("Gus")
    group = emu.create_group("Book club", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(owner, "/subscribe@newsdesk_bot", chat=group)
    reply = await emu.wait_for_bot_message(group)
    assert reply.text == SUBSCRIBED
    assert await _subscribed(running_bot, group.id)


async def test_group_member_who_is_not_admin_is_refused(running_bot: RunningBot) -> None:
    """A plain member cannot subscribe or unsubscribe a group and gets a short refusal."""
    emu = running_bot.emulator
    owner, member = emu.create_user("Ivo"), emu.create_user("Uma")
    group = emu.create_group("Neighbours", creator=owner, members=[member], supergroup=True)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(member, "/subscribe", chat=group)
    reply = await emu.wait_for_bot_message(group)
    assert reply.text == GROUP_ADMINS_ONLY
    assert not await _subscribed(running_bot, group.id)

    await emu.send_message(owner, "/subscribe", chat=group)
    await emu.wait_for_bot_message(group, after=reply.message_id)
    await emu.send_message(member, "/unsubscribe", chat=group)
    refusal = await emu.wait_for(
        lambda: next(
            (
                m
                for m in emu.bot_messages(group)
                if m.text == GROUP_ADMINS_ONLY and m.message_id > reply.message_id
            ),
            None,
        )
    )
    assert refusal.text == GROUP_ADMINS_ONLY
    assert await _subscribed(running_bot, group.id)


async def test_channel_post_subscribes_the_channel(running_bot: RunningBot) -> None:
    """A /subscribe posted in a channel (only its admins can post) subscribes the channel."""
    emu = running_bot.emulator
    owner = emu.create_user("Cleo")
    channel = emu.create_channel("Morning brief", creator=owner, username="morningbrief")
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    await emu.post_in_channel(owner, channel, "/subscribe")
    reply = await emu.wait_for_bot_message(channel)
    assert reply.text == SUBSCRIBED
    assert await _subscribed(running_bot, channel.id)
