"""Deleting what a bot sent, by Telegram's rules: the 48 hours, who may delete what where, and
deleteMessages in batches of one chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
)
from telegram.error import BadRequest

from emulator.clock import ManualClock
from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimUser
from emulator.state import Member

HOURS = 3600.0


@pytest.fixture(name="emu")
async def emu_fixture() -> AsyncIterator[Emulator]:
    """An emulator whose clock moves only when the test says so, without flood limits."""
    async with Emulator(clock=ManualClock(), limits=RateLimits.unlimited()) as running:
        yield running


def _clock(emu: Emulator) -> ManualClock:
    clock = emu.world.clock
    assert isinstance(clock, ManualClock)
    return clock


async def test_a_private_message_is_deleted_within_48_hours_only(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """A bot's message in a private chat is deleted at 47 hours; at 49 it can't be deleted."""
    fresh = await bot.send_message(reader.id, "Fresh")
    old = await bot.send_message(reader.id, "Old")
    _clock(emu).advance(47 * HOURS)
    assert await bot.delete_message(reader.id, fresh.message_id) is True
    _clock(emu).advance(2 * HOURS)
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_message(reader.id, old.message_id)
    shown = [message.text for message in emu.messages(emu.private_chat(reader))]
    assert "Fresh" not in shown
    assert "Old" in shown


async def test_a_group_message_past_48_hours_stays_even_for_an_admin_bot(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """In a basic group the 48 hours bind an administrator bot too."""
    group = emu.create_group("Readers", creator=reader)
    await emu.add_bot_to_chat(group, by=reader, admin=True)
    sent = await bot.send_message(group.id, "Card")
    _clock(emu).advance(49 * HOURS)
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_message(group.id, sent.message_id)


async def test_can_delete_messages_lifts_the_48_hours_in_a_supergroup(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """A supergroup admin bot with can_delete_messages deletes its 3-day-old message; a mere
    member bot may not."""
    forum = emu.create_group("Forum", creator=reader, supergroup=True)
    await emu.add_bot_to_chat(forum, by=reader)
    kept = await bot.send_message(forum.id, "Kept")
    _clock(emu).advance(72 * HOURS)
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_message(forum.id, kept.message_id)
    await emu.add_bot_to_chat(forum, by=reader, admin=True)
    assert await bot.delete_message(forum.id, kept.message_id) is True


async def test_a_channel_post_without_the_right_to_delete_it(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """A channel bot that may only post deletes its fresh posts, not those past 48 hours."""
    channel = emu.create_channel("Harbour News", creator=reader)
    await emu.add_bot_to_chat(channel, by=reader, admin=True)
    bot_id = bot.id
    channel.members[bot_id] = Member(
        channel.members[bot_id].user, "administrator", {"can_post_messages": True}
    )
    fresh = await bot.send_message(channel.id, "Fresh post")
    old = await bot.send_message(channel.id, "Old post")
    _clock(emu).advance(49 * HOURS)
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_message(channel.id, old.message_id)
    newer = await bot.send_message(channel.id, "New post")
    assert await bot.delete_message(channel.id, newer.message_id) is True
    assert [m.text for m in emu.messages(channel)] == ["Fresh post", "Old post"]
    assert fresh.message_id in channel.messages


async def test_delete_messages_takes_1_to_100_ids_and_skips_missing_ones(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """deleteMessages deletes the ids it finds and skips the others; none or 101 ids are
    refused."""
    sent = [await bot.send_message(reader.id, f"Card {n}") for n in range(3)]
    ids = [message.message_id for message in sent[:2]]
    assert await bot.delete_messages(reader.id, [*ids, 9999]) is True
    assert [m.text for m in emu.messages(emu.private_chat(reader))] == ["/start", "Card 2"]
    with pytest.raises(BadRequest, match=r"(?i)^message identifiers are not specified$"):
        await bot.delete_messages(reader.id, [])
    with pytest.raises(BadRequest, match=r"(?i)^too many messages to delete$"):
        await bot.delete_messages(reader.id, list(range(1, 102)))


async def test_delete_messages_deletes_none_when_one_is_too_old(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """A batch holding a message past 48 hours is refused whole: the fresh one stays too."""
    old = await bot.send_message(reader.id, "Old")
    _clock(emu).advance(49 * HOURS)
    fresh = await bot.send_message(reader.id, "Fresh")
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_messages(reader.id, [old.message_id, fresh.message_id])
    assert [m.text for m in emu.messages(emu.private_chat(reader))] == ["/start", "Old", "Fresh"]
