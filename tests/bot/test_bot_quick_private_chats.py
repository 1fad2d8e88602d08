"""Tests marked quick_private_chats hold their conversations at twenty messages a second in a
private chat, in the bot's limiter and the emulator's flood control alike; every other test
keeps Telegram's one a second."""

from __future__ import annotations

import pytest
from harness import QUICK_PRIVATE_INTERVAL, RunningBot
from polls_support import StartBot, started_private_chat

from bot.telegram.limiter import SendLimiter

REPLIES = 10


def _private_interval(running: RunningBot) -> float:
    limiter = running.application.bot.rate_limiter
    assert isinstance(limiter, SendLimiter)
    return limiter.rates.private_interval


@pytest.mark.quick_private_chats
async def test_a_quick_conversation_stays_within_the_emulators_limits(
    running_bot: RunningBot,
) -> None:
    """Ten commands sent at once in one private chat get their ten replies, and the emulator
    never had to answer 429: both sides keep the same quicker pace."""
    emu = running_bot.emulator
    reader = emu.create_user("Quinn")
    chat = started_private_chat(emu, reader)
    for _ in range(REPLIES):
        await emu.send_message(reader, "/help")

    await emu.wait_for(lambda: len(emu.bot_messages(chat)) == REPLIES, what="ten replies")

    assert _private_interval(running_bot) == QUICK_PRIVATE_INTERVAL
    assert emu.limits.per_chat_per_second == 1 / QUICK_PRIVATE_INTERVAL
    assert emu.count_errors(429) == 0


@pytest.mark.quick_private_chats
async def test_start_bot_of_a_marked_test_paces_quicker_too(start_bot: StartBot) -> None:
    """The bot a marked test starts with chosen settings paces private chats quicker."""
    async with start_bot(poll_edit_interval=1.0) as running:
        assert _private_interval(running) == QUICK_PRIVATE_INTERVAL
        assert running.emulator.limits.per_chat_per_second == 1 / QUICK_PRIVATE_INTERVAL


async def test_an_unmarked_test_keeps_telegrams_pace(running_bot: RunningBot) -> None:
    """Without the mark, one message a second in a private chat, in the bot and the emulator."""
    assert _private_interval(running_bot) == 1.0
    assert running_bot.emulator.limits.per_chat_per_second == 1.0
