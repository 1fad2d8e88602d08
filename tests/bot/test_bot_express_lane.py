"""The express lane (bot/runtime/express.py), through the emulator: taps and reactions read
straight from the update's JSON are stored with their update's record, so a delivery again
changes nothing, even after a restart; an update nobody can read is dropped, not fetched again
and again, and the updates after it are handled."""

from __future__ import annotations

import logging

import pytest
from harness import RunningBot, wait_until
from polls_support import StartBot, create_article_poll, post_poll_card, started_private_chat
from reports_world import desk_with_copies
from sqlmodel import col, select

from bot.telegram.callback_data import VoteTap, encode
from storage.models import CopyReactionCount, SeenUpdate, Vote


async def _channel_counts(running_bot: RunningBot, chat_id: int) -> dict[str, int]:
    async with running_bot.db.transaction() as session:
        rows = await session.exec(
            select(CopyReactionCount).where(col(CopyReactionCount.chat_id) == chat_id)
        )
        return {row.key: row.count for row in rows}


async def test_a_tap_is_stored_with_its_update_and_a_delivery_again_changes_nothing(
    running_bot: RunningBot,
) -> None:
    """After the answer, the tap's update is in the ledger and the vote in the votes; the same
    update delivered again is skipped and the vote stays (a second tap would retract it)."""
    emu = running_bot.emulator
    reader = emu.create_user("Ines")
    poll_id = await create_article_poll(running_bot.db)
    card = await post_poll_card(running_bot, started_private_chat(emu, reader), poll_id)
    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 1)))
    assert answer.text == "You voted: No"
    tap_update = emu.update_ids()[-1]
    async with running_bot.db.transaction() as session:
        assert await session.get(SeenUpdate, tap_update) is not None
    emu.redeliver(tap_update)

    async def skipped() -> bool:
        return running_bot.application.bot_data.updates_seen.skipped >= 1

    await wait_until(skipped, what="the tap delivered again to be skipped")
    async with running_bot.db.transaction() as session:
        votes = (await session.exec(select(Vote).where(col(Vote.poll_id) == poll_id))).all()
    assert [(vote.user_id, vote.option_id is not None) for vote in votes] == [(reader.id, True)]


async def test_a_reaction_update_delivered_again_after_a_restart_changes_nothing(
    start_bot: StartBot,
) -> None:
    """Channel counts 1, then 2; after a restart the first update comes again: skipped, the
    stored count stays 2 (stored again, it would put the old count back)."""
    async with start_bot() as first:
        emu = first.emulator
        desk = await desk_with_copies(first)
        channel, card = desk.channel, desk.channel_card
        await emu.react(desk.readers[0], channel, card.message_id, ["👍"])
        first_update = emu.update_ids()[-1]
        await emu.react(desk.readers[1], channel, card.message_id, ["👍"])

        async def counted_two() -> bool:
            return await _channel_counts(first, channel.id) == {"👍": 2}

        await wait_until(counted_two, timeout=10, what="the channel copy's two reactions")
    async with start_bot() as second:
        emu.redeliver(first_update)

        async def skipped() -> bool:
            return second.application.bot_data.updates_seen.skipped >= 1

        await wait_until(skipped, what="the old reaction update to be skipped")
        assert await _channel_counts(second, channel.id) == {"👍": 2}


async def test_an_update_that_cannot_be_read_is_dropped_and_the_next_one_handled(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A vote tap from a user without an id (python-telegram-bot cannot read it): one log line
    naming the update, and the reader's /start right after it is answered."""
    emu = running_bot.emulator
    reader = emu.create_user("Noor")
    poll_id = await create_article_poll(running_bot.db)
    card = await post_poll_card(running_bot, started_private_chat(emu, reader), poll_id)
    caplog.set_level(logging.ERROR, logger="bot.telegram.bot")
    emu.world.enqueue(
        running_bot.account,
        "callback_query",
        {
            "id": "broken-1",
            "from": {"is_bot": False, "first_name": "Nobody"},
            "chat_instance": "1",
            "message": card.to_api(),
            "data": encode(VoteTap(poll_id, 0)),
        },
    )
    broken = emu.update_ids()[-1]
    await emu.send_message(reader, "/start")
    reply = await emu.wait_for_bot_message(emu.private_chat(reader), after=card.message_id)
    assert "Welcome!" in reply.text
    assert f"update {broken} could not be read; dropped" in caplog.text
    async with running_bot.db.transaction() as session:
        assert (await session.exec(select(Vote))).all() == []
