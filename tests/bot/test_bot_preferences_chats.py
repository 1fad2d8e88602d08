"""/settings beyond private chats, through the emulator: a group's admins only (at the command
and at every tap), and a channel's admins from their private chat with /settings @channel."""

from __future__ import annotations

import pytest
from harness import RunningBot
from polls_support import started_private_chat
from preferences_support import buttons, open_settings, stored, tap

from bot.chats.channel_rights import NOT_CHANNEL_ADMIN
from bot.chats.subscription import GROUP_ADMINS_ONLY
from bot.preferences.audience import GROUP_ADMINS_ONLY_TAP, IN_PRIVATE
from storage import preferences
from storage.models import DeliveryMode

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats

DASH = "\u2013"  # quiet ranges are shown with an en dash


async def test_a_groups_settings_are_for_its_admins(running_bot: RunningBot) -> None:
    """A member's /settings gets the same refusal as their /subscribe, and their tap on the
    admin's settings message a toast, the message untouched; the admin's taps are stored."""
    emu = running_bot.emulator
    owner, member = emu.create_user("Gus"), emu.create_user("Uma")
    group = emu.create_group("Book club", creator=owner, members=[member], supergroup=True)
    await emu.add_bot_to_chat(group, by=owner)

    refusal = await open_settings(emu, member, group)
    assert refusal.text == GROUP_ADMINS_ONLY
    message = await open_settings(emu, owner, group)
    assert (message.text or "").startswith("⚙️ Settings for Book club")

    answer = await emu.press_button(member, message, text="Quiet hours")
    assert answer.text == GROUP_ADMINS_ONLY_TAP
    assert message.edits == []

    await tap(emu, owner, message, "Quiet hours")
    assert await tap(emu, owner, message, f"23:00{DASH}08:00") == f"Quiet hours 23:00{DASH}08:00."
    chosen = await stored(running_bot, group.id)
    assert (chosen.quiet_from, chosen.quiet_until) == (23 * 60, 8 * 60)
    answer = await emu.press_button(member, message, text="Off")
    assert answer.text == GROUP_ADMINS_ONLY_TAP
    assert (await stored(running_bot, group.id)).quiet_from == 23 * 60


async def test_a_channels_admin_changes_its_settings_in_private(running_bot: RunningBot) -> None:
    """`/settings @channel` from the channel's admin opens the channel's settings in private;
    their taps change the channel's row, not their own. Someone who does not run the channel is
    refused, and /settings posted in the channel points to a private chat."""
    emu = running_bot.emulator
    owner, stranger = emu.create_user("Cleo"), emu.create_user("Sam")
    channel = emu.create_channel("Morning brief", creator=owner, username="morningbrief")
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    chat = started_private_chat(emu, owner)

    message = await open_settings(emu, owner, chat, "/settings @morningbrief")
    assert (message.text or "").startswith("⚙️ Settings for @morningbrief")
    await tap(emu, owner, message, "Delivery")
    await tap(emu, owner, message, "Weekly digest")
    await tap(emu, owner, message, "Monday")
    assert await tap(emu, owner, message, "09:00") == "Weekly digest on Mondays at 09:00."
    chosen = await stored(running_bot, channel.id)
    assert (chosen.delivery_mode, chosen.digest_weekday, chosen.digest_hour) == (
        DeliveryMode.WEEKLY,
        0,
        9,
    )
    assert "✅ Weekly digest" in buttons(message)
    async with running_bot.db.transaction() as session:
        own = await preferences.chat_preferences(session, chat_id=owner.id)
    assert own is None or own.delivery_mode is DeliveryMode.INSTANT

    refusal = await open_settings(
        emu, stranger, started_private_chat(emu, stranger), "/settings @morningbrief"
    )
    assert refusal.text == NOT_CHANNEL_ADMIN.format(name="@morningbrief")

    post = await emu.post_in_channel(owner, channel, "/settings")
    pointer = await emu.wait_for_bot_message(channel, after=post.message_id)
    assert pointer.text == IN_PRIVATE.format(channel="morningbrief")


async def test_a_channel_admin_who_stepped_down_can_no_longer_tap(
    running_bot: RunningBot,
) -> None:
    """Each tap on a channel's settings asks Telegram again: a tap after the tapper stopped
    being an admin is refused with a toast and changes nothing."""
    emu = running_bot.emulator
    owner, editor = emu.create_user("Cleo"), emu.create_user("Ed")
    channel = emu.create_channel(
        "Evening brief", creator=owner, username="eveningbrief", admins=[editor]
    )
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    chat = started_private_chat(emu, editor)
    message = await open_settings(emu, editor, chat, "/settings @eveningbrief")
    await tap(emu, editor, message, "Time zone")

    await emu.set_member_status(channel, editor, "left")
    answer = await emu.press_button(editor, message, text="Europe/Berlin")
    assert answer.text == NOT_CHANNEL_ADMIN.format(name="@eveningbrief")
    assert (await stored(running_bot, channel.id)).timezone is None
