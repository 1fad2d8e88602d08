"""`python -m bot run` killed with SIGKILL in the middle of a vote storm, then started again:
every vote a reader saw acknowledged is in the database, and updates the dead process had
fetched but not confirmed change nothing the second time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from harness import BOT_TOKEN, bot_env, start_logged_bot, wait_until_polling
from polls_support import create_article_poll, expected_content
from sqlmodel import col, select
from telegram import Bot
from telegram.constants import ParseMode

from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import CallbackAnswer, Emulator, SimMessage, SimUser
from storage import polls
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Vote

VOTERS = 80


def _env(emulator: Emulator, database_url: str) -> dict[str, str]:
    return bot_env(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        PTB_TIMEDELTA="1",
    )


async def _post_card(
    emulator: Emulator, db: Database, reader: SimUser, poll_id: int
) -> SimMessage:
    """The poll's card in a reader's chat, registered as the bot registers it."""
    content = await expected_content(db, poll_id)
    emulator.private_chat(reader).started = True
    async with Bot(BOT_TOKEN, base_url=emulator.base_url) as bot:
        sent = await bot.send_message(
            reader.id, content.text_html, parse_mode=ParseMode.HTML, reply_markup=content.markup
        )
    async with db.transaction() as session:
        await polls.register_poll_message(
            session, poll_id=poll_id, chat_id=reader.id, message_id=sent.message_id
        )
    return emulator.private_chat(reader).messages[sent.message_id]


def _answered(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests("answerCallbackQuery") if r.status == 200)


@pytest.mark.slow
async def test_sigkill_mid_vote_storm_keeps_every_acknowledged_vote(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Votes answered before the kill, and after the restart, are all stored; none retracted."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    db = Database.connect(database_url)
    await upgrade(db)
    poll_id = await create_article_poll(db)
    card = await _post_card(emulator, db, emulator.create_user("Host"), poll_id)
    voters = [emulator.create_user(f"Voter {n}") for n in range(VOTERS)]
    env = _env(emulator, database_url)

    async def tap(voter: SimUser, turn: int) -> CallbackAnswer | None:
        # Taps arrive over about two seconds, so the kill finds some stored and some not.
        await asyncio.sleep(turn * 0.025)
        try:
            return await emulator.press_button(
                voter, card, data=encode(VoteTap(poll_id, 0)), timeout=40
            )
        except TimeoutError:
            return None  # never acknowledged: the reader would tap again

    first = await start_logged_bot(tmp_path, env)
    taps: list[asyncio.Task[CallbackAnswer | None]] = []
    try:
        await wait_until_polling(emulator, account)
        taps = [asyncio.create_task(tap(voter, turn)) for turn, voter in enumerate(voters)]
        await emulator.wait_for(lambda: _answered(emulator) >= VOTERS // 4, timeout=30)
    finally:
        first.kill()
        await first.wait()
    acknowledged_before_kill = _answered(emulator)
    second = await start_logged_bot(tmp_path, env)
    try:
        await emulator.wait_for(lambda: emulator.pending_updates() == 0, timeout=30)
        # Taps the dead process took on but never stored stay unanswered: stop waiting soon.
        await asyncio.wait(taps, timeout=3)
        for pending in taps:
            pending.cancel()
        outcomes = await asyncio.gather(*taps, return_exceptions=True)
        answers = [a if isinstance(a, CallbackAnswer) else None for a in outcomes]
    finally:
        second.terminate()
        await second.wait()

    acknowledged = {
        voter.id
        for voter, answer in zip(voters, answers, strict=True)
        if answer is not None and answer.text == "You voted: Yes"
    }
    async with db.transaction() as session:
        stored = set(
            (
                await session.exec(select(col(Vote.user_id)).where(col(Vote.poll_id) == poll_id))
            ).all()
        )
    await db.dispose()
    assert acknowledged_before_kill < VOTERS, "the kill must land mid-storm"
    assert acknowledged <= stored
    assert len(acknowledged) >= acknowledged_before_kill
