"""Connecting a channel from a private chat through the emulator: `/subscribe @channel` checks
that the user runs the channel and that the bot may post there, naming whatever is missing."""

from __future__ import annotations

from functools import partial

import pytest
from harness import RunningBot, stored_chat
from sharing_support import cards_in, publish

from bot.chats.channel_rights import (
    CANT_FIND,
    CHANNEL_USAGE,
    NEED_POST_RIGHT,
    NOT_A_CHANNEL,
    NOT_CHANNEL_ADMIN,
)
from bot.chats.subscription import (
    CHANNEL_ALREADY_SUBSCRIBED,
    CHANNEL_NOT_SUBSCRIBED,
    CHANNEL_SUBSCRIBED,
    CHANNEL_UNSUBSCRIBED,
)
from emulator.simulation import Emulator, SimUser

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats


async def _ask(emu: Emulator, user: SimUser, text: str) -> str:
    """Send a command in the user's private chat with the bot; the bot's answer."""
    chat = emu.private_chat(user)
    sent = await emu.send_message(user, text)
    reply = await emu.wait_for_bot_message(chat, after=sent.message_id)
    return reply.text or ""


async def test_channel_admin_connects_a_channel(running_bot: RunningBot) -> None:
    """An admin of a channel where the bot may post subscribes it from a private chat; articles
    then go to the channel; /unsubscribe @channel stops them."""
    bot = running_bot
    emu = bot.emulator
    editor, deputy = emu.create_user("Cleo"), emu.create_user("Dara")
    channel = emu.create_channel(
        "Coast brief", creator=editor, username="coastbrief", admins=[deputy]
    )
    await emu.add_bot_to_chat(channel, by=editor, admin=True)

    assert await _ask(emu, editor, "/subscribe @coastbrief") == CHANNEL_SUBSCRIBED.format(
        name="@coastbrief"
    )
    assert await _ask(emu, deputy, "/subscribe https://t.me/coastbrief") == (
        CHANNEL_ALREADY_SUBSCRIBED.format(name="@coastbrief")
    )
    stored = await stored_chat(bot, channel.id)
    assert stored is not None
    assert (stored.subscribed, stored.active, stored.username) == (True, True, "coastbrief")
    await publish(bot, "ferry", "Night ferry trial extended")
    await emu.wait_for(partial(cards_in, bot, channel), what="the card in the channel")

    assert await _ask(emu, editor, "/unsubscribe @coastbrief") == CHANNEL_UNSUBSCRIBED.format(
        name="@coastbrief"
    )
    assert await _ask(emu, deputy, "/unsubscribe @coastbrief") == CHANNEL_NOT_SUBSCRIBED.format(
        name="@coastbrief"
    )
    stored = await stored_chat(bot, channel.id)
    assert stored is not None
    assert (stored.subscribed, stored.active) == (False, False)


async def test_each_missing_right_is_named(running_bot: RunningBot) -> None:
    """Unknown channel, not a channel, user not an admin, bot not an admin, bot without the
    'Post messages' right: each gets its own answer and nothing is subscribed."""
    bot = running_bot
    emu = bot.emulator
    # One user per question: each private chat gets one answer, so none waits for its turn.
    cleo, dara, eve, finn, gil, ines = (
        emu.create_user(name) for name in ("Cleo", "Dara", "Eve", "Finn", "Gil", "Ines")
    )
    no_rights = emu.create_channel("Quiet brief", creator=finn, username="quietbrief")
    await emu.add_bot_to_chat(no_rights, by=finn, admin=True, can_post_messages=False)
    without_bot = emu.create_channel("Lonely brief", creator=eve, username="lonelybrief")
    group = emu.create_group("Harbour chat", creator=dara, username="harbourchat")
    await emu.add_bot_to_chat(group, by=dara)
    joined = emu.create_channel("Coast brief", creator=cleo, username="coastbrief")
    await emu.add_bot_to_chat(joined, by=cleo, admin=True)

    answers = {
        (cleo, "/subscribe @nosuchbrief"): CANT_FIND.format(name="@nosuchbrief"),
        (dara, "/subscribe @harbourchat"): NOT_A_CHANNEL.format(name="@harbourchat"),
        (ines, "/subscribe @coastbrief"): NOT_CHANNEL_ADMIN.format(name="@coastbrief"),
        (eve, "/subscribe @lonelybrief"): NEED_POST_RIGHT.format(name="@lonelybrief"),
        (finn, "/subscribe @quietbrief"): NEED_POST_RIGHT.format(name="@quietbrief"),
        (gil, "/subscribe coastbrief!"): CHANNEL_USAGE,
    }
    for (user, command), expected in answers.items():
        assert await _ask(emu, user, command) == expected
    assert await _ask(emu, ines, "/unsubscribe @coastbrief") == NOT_CHANNEL_ADMIN.format(
        name="@coastbrief"
    )
    for channel in (no_rights, without_bot, joined):
        stored = await stored_chat(bot, channel.id)
        assert stored is None or not stored.subscribed
