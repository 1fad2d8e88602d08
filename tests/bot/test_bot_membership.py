"""The bot's membership (blocked, unblocked, added, kicked, upgraded), through the emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness import RunningBot, stored_chat, wait_until

from storage.models import Chat, StopReason

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats


async def _chat_when(
    running_bot: RunningBot, chat_id: int, condition: Callable[[Chat], bool] = lambda _: True
) -> Chat:
    async def probe() -> Chat | None:
        chat = await stored_chat(running_bot, chat_id)
        return chat if chat is not None and condition(chat) else None

    return await wait_until(probe, what=f"chat {chat_id} in the expected state")


async def test_blocking_stops_pushes_and_unblocking_does_not_resubscribe(
    running_bot: RunningBot,
) -> None:
    """A reader who blocks the bot is inactive as blocked; unblocking keeps them inactive."""
    emu = running_bot.emulator
    reader = emu.create_user("Noa")
    await emu.send_message(reader, "/subscribe")
    first = await emu.wait_for_bot_message(emu.private_chat(reader))

    await emu.block_bot(reader)
    chat = await _chat_when(running_bot, reader.id, lambda c: not c.active)
    assert chat.stop_reason == StopReason.BLOCKED

    await emu.unblock_bot(reader)
    await emu.send_message(reader, "/help")
    await emu.wait_for_bot_message(emu.private_chat(reader), after=first.message_id)
    chat = await _chat_when(running_bot, reader.id)
    assert not chat.active
    assert chat.stop_reason == StopReason.BLOCKED


async def test_bot_added_to_group_is_recorded_and_kick_marks_inactive(
    running_bot: RunningBot,
) -> None:
    """Adding the bot records the group unsubscribed; a kick marks it inactive as kicked."""
    emu = running_bot.emulator
    owner = emu.create_user("Pia")
    group = emu.create_group("Runners", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    chat = await _chat_when(running_bot, group.id)
    assert chat.title == "Runners"
    assert not chat.subscribed

    await emu.send_message(owner, "/subscribe", chat=group)
    await emu.wait_for_bot_message(group)
    await emu.remove_bot_from_chat(group, by=owner)
    chat = await _chat_when(running_bot, group.id, lambda c: not c.active)
    assert chat.stop_reason == StopReason.KICKED


async def test_bot_re_added_to_group_does_not_resubscribe(running_bot: RunningBot) -> None:
    """A group that removed the bot and added it back is recorded again but stays inactive."""
    emu = running_bot.emulator
    owner = emu.create_user("Ned")
    group = emu.create_group("Cyclists", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(owner, "/subscribe", chat=group)
    subscribed = await emu.wait_for_bot_message(group)
    await emu.remove_bot_from_chat(group, by=owner)
    await _chat_when(running_bot, group.id, lambda c: not c.active)

    await emu.add_bot_to_chat(group, by=owner)
    # The bot answers /help only after it has seen every earlier update of the group.
    await emu.send_message(owner, "/help", chat=group)
    await emu.wait_for_bot_message(group, after=subscribed.message_id)
    chat = await _chat_when(running_bot, group.id)
    assert not chat.active
    assert chat.subscribed


async def test_group_upgrade_keeps_the_subscription_under_the_new_id(
    running_bot: RunningBot,
) -> None:
    """A group upgraded to a supergroup stays subscribed under its new id."""
    emu = running_bot.emulator
    owner = emu.create_user("Rex")
    group = emu.create_group("Chess", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(owner, "/subscribe", chat=group)
    await emu.wait_for_bot_message(group)

    supergroup = await emu.upgrade_to_supergroup(group)
    moved = await _chat_when(running_bot, supergroup.id, lambda c: c.subscribed and c.active)
    assert moved.id == supergroup.id
    old = await stored_chat(running_bot, group.id)
    assert old is None or not old.active
