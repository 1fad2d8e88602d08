"""Telegram failing for a while (5xx answers, requests that time out): the bot keeps going and
catches up, loses no update and no delivery, and sends nothing twice."""

from __future__ import annotations

import pytest
from delivery_world import copies_per_chat, rows_left, subscribe_readers
from harness import RunningBot, wait_until
from polls_support import create_article_poll, post_poll_card, started_private_chat
from sqlmodel import col, select

from bot.telegram.callback_data import VoteTap, encode
from storage import broadcasts
from storage.models import Vote


async def _broadcast(running_bot: RunningBot, html: str) -> None:
    async with running_bot.db.transaction() as session:
        draft = await broadcasts.create_broadcast(
            session, author_id=running_bot.admin.id, html=html
        )
        assert draft.id is not None
        await broadcasts.start_broadcast(
            session, broadcast_id=draft.id, report_chat_id=running_bot.admin.id
        )
    running_bot.application.bot_data.wake_delivery()


async def _all_delivered(running_bot: RunningBot) -> None:
    async def done() -> bool:
        return await rows_left(running_bot.db) == 0

    await wait_until(done, timeout=30, what="every delivery to be recorded")


async def test_updates_sent_during_502s_are_handled_after(running_bot: RunningBot) -> None:
    """getUpdates answering 502 twice: the reader's /start still gets its welcome afterwards."""
    emu = running_bot.emulator
    emu.inject_faults(502, methods={"getUpdates"}, count=2)
    reader = emu.create_user("Uma")
    await emu.send_message(reader, "/start")
    reply = await emu.wait_for_bot_message(emu.private_chat(reader), timeout=20)
    assert reply.from_bot
    assert emu.count_errors(502) == 2


async def test_broadcast_through_502s_reaches_everyone_once(running_bot: RunningBot) -> None:
    """Sends failing with 502 are retried with backoff: every reader gets exactly one copy."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 6)
    emu.inject_faults(502, methods={"sendMessage"}, count=4)
    await _broadcast(running_bot, "Storm warning tonight")
    await _all_delivered(running_bot)
    assert copies_per_chat(emu, readers, "Storm warning tonight") == {1: 6}
    assert emu.faults_injected == 4


@pytest.mark.slow
async def test_timeouts_delay_but_lose_nothing(running_bot: RunningBot) -> None:
    """Sends and a poll held past the client's timeout: retried, one copy each, updates kept."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 3)
    emu.inject_faults("timeout", methods={"sendMessage"}, count=2, hold=6.0)
    await _broadcast(running_bot, "Bridge closed")
    late = emu.create_user("Lou")
    await emu.send_message(late, "/start")
    await _all_delivered(running_bot)
    assert copies_per_chat(emu, readers, "Bridge closed") == {1: 3}
    assert await emu.wait_for_bot_message(emu.private_chat(late), timeout=20)


async def test_lost_toast_keeps_the_vote(running_bot: RunningBot) -> None:
    """answerCallbackQuery failing with 502: the vote is stored and the bot keeps voting."""
    emu = running_bot.emulator
    reader, other = emu.create_user("Vic"), emu.create_user("Wen")
    poll_id = await create_article_poll(running_bot.db)
    card = await post_poll_card(running_bot, started_private_chat(emu, reader), poll_id)
    emu.inject_faults(502, methods={"answerCallbackQuery"}, count=1)
    with pytest.raises(TimeoutError):
        await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)), timeout=1.5)
    answer = await emu.press_button(other, card, data=encode(VoteTap(poll_id, 1)))
    assert answer.text == "You voted: No"
    async with running_bot.db.transaction() as session:
        voters = await session.exec(select(col(Vote.user_id)).where(col(Vote.poll_id) == poll_id))
        assert sorted(voters.all()) == sorted([reader.id, other.id])
