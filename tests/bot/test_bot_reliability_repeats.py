"""Updates delivered twice change nothing, and a reader hammering a button writes nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_articles_support import final_status, reply_after
from harness import RunningBot, wait_until
from polls_support import (
    StartBot,
    create_article_poll,
    post_poll_card,
    started_private_chat,
)
from sqlmodel import col, func, select
from telegram import Update

from bot.polls.tap_limit import SLOW_DOWN, TapLimiter
from bot.runtime.update_ledger import UpdateLedger, UpdateRecords, update_digest
from bot.telegram.callback_data import VoteTap, encode
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Article, Delivery, Vote

EXAMPLES = Path(__file__).parents[2] / "examples" / "articles"


@pytest.fixture(name="bot")
async def bot_fixture(start_bot: StartBot) -> AsyncIterator[RunningBot]:
    """The bot with no double-tap window, so a second tap right away would retract."""
    async with start_bot(poll_double_tap_window=0.0) as running:
        yield running


async def _count(running_bot: RunningBot, model: type[Vote | Article | Delivery]) -> int:
    async with running_bot.db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def _skipped(running_bot: RunningBot, count: int) -> None:
    async def skipped() -> bool:
        return running_bot.application.bot_data.updates_seen.skipped >= count

    await wait_until(skipped, what=f"{count} repeated updates to be skipped")


async def test_repeated_vote_tap_does_not_retract(bot: RunningBot) -> None:
    """The same callback update delivered again leaves the vote in place."""
    emu = bot.emulator
    reader = emu.create_user("Rae")
    poll_id = await create_article_poll(bot.db)
    card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))
    assert answer.text == "You voted: Yes"
    emu.redeliver()
    await _skipped(bot, 1)
    async with bot.db.transaction() as session:
        voters = await session.exec(select(col(Vote.user_id)).where(col(Vote.poll_id) == poll_id))
        assert voters.all() == [reader.id]


async def test_repeated_publish_publishes_once(bot: RunningBot) -> None:
    """/publish delivered twice: one article, one reply, no second delivery."""
    emu = bot.emulator
    chat = started_private_chat(emu, bot.admin)
    source = sorted(EXAMPLES.glob("*.md"))[0]
    upload = await emu.send_message(bot.admin, "", document=(source.name, source.read_bytes()))
    sent = await emu.send_message(bot.admin, "/publish", reply_to=upload)
    status = await reply_after(emu, chat, sent.message_id)
    assert (await final_status(emu, status)).startswith("Published article 1")
    replies = len(emu.bot_messages(chat))
    deliveries = await _count(bot, Delivery)
    emu.redeliver()
    await _skipped(bot, 1)
    assert await _count(bot, Article) == 1
    assert await _count(bot, Delivery) == deliveries
    assert len(emu.bot_messages(chat)) == replies


async def test_repeat_after_restart_is_skipped(start_bot: StartBot) -> None:
    """An update seen before a restart and delivered again after it changes nothing."""
    async with start_bot(poll_double_tap_window=0.0) as first:
        emu = first.emulator
        reader = emu.create_user("Sol")
        poll_id = await create_article_poll(first.db)
        card = await post_poll_card(first, started_private_chat(emu, reader), poll_id)
        await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 1)))
    async with start_bot(poll_double_tap_window=0.0) as second:
        emu.redeliver()
        await _skipped(second, 1)
        assert await _count(second, Vote) == 1


async def test_hammering_a_button_is_slowed_down(start_bot: StartBot) -> None:
    """Thirty taps in a row: the first three are stored, the rest get "slow down" and no write."""
    async with start_bot(poll_double_tap_window=0.0, tap_limit=3, tap_window=60.0) as bot:
        emu = bot.emulator
        reader = emu.create_user("Hal")
        poll_id = await create_article_poll(bot.db)
        card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
        texts = [
            (await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))).text
            for _ in range(30)
        ]
        assert texts[:3] == ["You voted: Yes", "Vote removed", "You voted: Yes"]
        assert set(texts[3:]) == {SLOW_DOWN}
        assert bot.application.bot_data.votes.committed_votes == 3
        assert await _count(bot, Vote) == 1


def test_tap_limit_window_slides() -> None:
    """Taps older than the window no longer count; other readers and polls are separate."""
    limiter = TapLimiter(limit=2, window=3.0)
    assert [limiter.allow(user_id=1, poll_id=1, now=t) for t in (0, 1, 2)] == [True, True, False]
    assert limiter.allow(user_id=2, poll_id=1, now=2)
    assert limiter.allow(user_id=1, poll_id=2, now=2)
    assert limiter.allow(user_id=1, poll_id=1, now=3.0)
    assert limiter.refused == 1


async def test_ledger_knows_repeats_in_one_batch_and_after_a_restart(database_url: str) -> None:
    """Two copies in one batch: the first is new; after a restart the update is still known,
    while another update reusing its id (ids started over) is new."""
    db = Database.connect(database_url)
    await upgrade(db)
    ledger = UpdateLedger(db, UpdateRecords())
    await ledger.start()
    try:
        copies = await asyncio.gather(ledger.first_time(7, "a7"), ledger.first_time(7, "a7"))
        assert copies == [True, False]
        assert await ledger.first_time(8, "a8")
    finally:
        await ledger.stop()
    again = UpdateLedger(db, UpdateRecords())
    await again.start()
    try:
        assert await asyncio.gather(again.first_time(7, "a7"), again.first_time(9, "a9")) == [
            False,
            True,
        ]
        assert await again.first_time(8, "b8")
        assert not await again.first_time(8, "b8")
    finally:
        await again.stop()
        await db.dispose()
    with pytest.raises(RuntimeError, match="not running"):
        await again.first_time(10, "a10")


def _reaction_update(update_id: int, *, message_id: int, user_id: int) -> Update:
    data = {
        "update_id": update_id,
        "message_reaction": {
            "chat": {"id": -100_123, "type": "supergroup", "title": "Readers"},
            "message_id": message_id,
            "user": {"id": user_id, "is_bot": False, "first_name": "Ann"},
            "date": 1_700_000_000,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }
    return Update.de_json(data, None)


def test_a_reaction_update_is_known_by_its_message_and_reactor() -> None:
    """The same reaction update delivered again has the same digest (so it is skipped), while
    one reusing its id about another message or by another reader is new."""
    first = update_digest(_reaction_update(7, message_id=40, user_id=1))
    assert update_digest(_reaction_update(7, message_id=40, user_id=1)) == first
    assert update_digest(_reaction_update(7, message_id=41, user_id=1)) != first
    assert update_digest(_reaction_update(7, message_id=40, user_id=2)) != first
