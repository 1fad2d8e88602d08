"""Flood control as python-telegram-bot meets it: 429 RetryAfter, held until its time passed."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from emulator.clock import ManualClock
from emulator.simulation import Emulator, SimChat, SimUser


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot gives RetryAfter.retry_after as a timedelta without warning."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture(name="clock")
def clock_fixture(manual_clock_emulator: Emulator) -> ManualClock:
    """The emulator's manual clock."""
    clock = manual_clock_emulator.clock
    assert isinstance(clock, ManualClock)
    return clock


@pytest.fixture(name="emu")
def emu_fixture(manual_clock_emulator: Emulator) -> Emulator:
    """The plugin's emulator with default limits on a manual clock."""
    return manual_clock_emulator


@pytest.fixture(name="group")
async def group_fixture(emu: Emulator, reader: SimUser) -> SimChat:
    """A group the bot was added to."""
    group = emu.create_group("Desk", creator=reader)
    await emu.add_bot_to_chat(group, by=reader)
    return group


async def test_private_chat_burst_then_retry_after(
    bot: Bot, reader: SimUser, clock: ManualClock
) -> None:
    """A burst beyond the private-chat rate gets 429 retry_after=1, refused until it passed."""
    for number in range(3):
        await bot.send_message(reader.id, f"burst {number}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(reader.id, "one too many")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    clock.advance(0.5)
    with pytest.raises(RetryAfter):
        await bot.send_message(reader.id, "still too early")
    clock.advance(0.5)
    assert (await bot.send_message(reader.id, "after waiting")).text == "after waiting"


async def test_group_allows_20_per_minute_and_edits_count(
    emu: Emulator, bot: Bot, group: SimChat, clock: ManualClock
) -> None:
    """19 sends and an edit fill a group's minute; the next send waits for the minute to roll."""
    first = await bot.send_message(group.id, "0")
    for number in range(1, 19):
        clock.advance(1)
        await bot.send_message(group.id, str(number))
    clock.advance(1)
    await bot.edit_message_text("edited", group.id, first.message_id)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "21st")
    assert caught.value.retry_after == dtm.timedelta(seconds=41)
    assert emu.count_errors(429) == 1
    clock.advance(41)
    assert (await bot.send_message(group.id, "next minute")).text == "next minute"


async def test_callback_answers_and_reads_are_not_limited(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """getChat and getChatMember keep working while sends are refused."""
    for number in range(3):
        await bot.send_message(reader.id, str(number))
    with pytest.raises(RetryAfter):
        await bot.send_message(reader.id, "refused")
    for _ in range(40):
        await bot.get_chat(reader.id)
    member = await bot.get_chat_member(reader.id, reader.id)
    assert member.user.id == reader.id
    assert emu.count_errors(429) == 1


async def test_lifting_the_limits_lets_everything_through(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """With limits.lifted, a hundred sends at one instant all pass."""
    emu.limits.lifted = True
    for number in range(100):
        await bot.send_message(reader.id, str(number))
    assert emu.count_errors(429) == 0
    assert len(emu.bot_messages(emu.private_chat(reader))) == 100
