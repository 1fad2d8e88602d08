"""Voting through the emulator: vote, change, retract, closed polls, forged data, double taps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from harness import RunningBot, wait_until
from polls_support import (
    StartBot,
    create_article_poll,
    expected_content,
    post_poll_card,
    shows,
    started_private_chat,
)
from sqlmodel import col, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.polls.votes import NOT_VALID, POLL_CLOSED, VOTE_REMOVED
from bot.telegram.callback_data import VoteTap, encode
from storage.models import ResultsVisibility, Vote
from storage.types import utcnow


@pytest.fixture(name="bot")
async def bot_fixture(start_bot: StartBot) -> AsyncIterator[RunningBot]:
    """The bot with no double-tap window, so a second tap right away retracts."""
    async with start_bot(poll_double_tap_window=0.0) as running:
        yield running


async def _votes(running_bot: RunningBot, poll_id: int) -> list[tuple[int, int]]:
    async with running_bot.db.transaction() as session:
        rows = await session.exec(
            select(Vote.user_id, Vote.option_id).where(col(Vote.poll_id) == poll_id)
        )
        return list(rows)


async def test_vote_change_and_retract(bot: RunningBot) -> None:
    """Tapping votes, tapping another option changes the vote, tapping it again removes it."""
    emu = bot.emulator
    reader = emu.create_user("Lea")
    poll_id = await create_article_poll(bot.db)
    card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)

    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))
    assert answer.text == "You voted: Yes"
    assert len(await _votes(bot, poll_id)) == 1

    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 1)))
    assert answer.text == "Vote changed to No"
    [(user_id, option_id)] = await _votes(bot, poll_id)
    assert user_id == reader.id
    no_option = (await expected_content(bot.db, poll_id)).markup.inline_keyboard[1][0]
    assert no_option.text == "No · 1"
    assert option_id == 2  # the second option stored for this poll

    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 1)))
    assert answer.text == VOTE_REMOVED
    assert await _votes(bot, poll_id) == []


async def test_tapped_message_shows_new_totals(bot: RunningBot) -> None:
    """After a vote the tapped card is edited to show the new count on its button."""
    emu = bot.emulator
    reader = emu.create_user("Max")
    poll_id = await create_article_poll(bot.db)
    card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
    await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))
    expected = await expected_content(bot.db, poll_id)
    await emu.wait_for(lambda: shows(card, expected), what="the card showing one vote")
    assert "Yes · 1" in [b["text"] for row in card.buttons for b in row]


async def test_closed_poll_refuses_votes(bot: RunningBot) -> None:
    """A vote on a closed poll gets a "closed" toast and stores nothing."""
    emu = bot.emulator
    reader = emu.create_user("Ola")
    poll_id = await create_article_poll(bot.db)
    card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
    assert await bot.application.bot_data.polls.close(poll_id)

    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))
    assert answer.text == POLL_CLOSED
    assert await _votes(bot, poll_id) == []


async def test_forged_buttons_get_a_polite_toast(bot: RunningBot) -> None:
    """Unknown polls, options out of range, stale versions and garbage change nothing."""
    emu = bot.emulator
    reader = emu.create_user("Kai")
    chat = started_private_chat(emu, reader)
    poll_id = await create_article_poll(bot.db)
    forged = [
        encode(VoteTap(poll_id + 1000, 0)),
        encode(VoteTap(poll_id, 5)),
        "0:v:1:0",
        "1:v:01:0",
        "\u00ff\u0000garbage",
        "1:x:1",
    ]
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in forged])
    sent = await bot.application.bot.send_message(chat.id, "Forged", reply_markup=keyboard)
    message = chat.messages[sent.message_id]
    for data in forged:
        answer = await emu.press_button(reader, message, data=data)
        assert answer.text == NOT_VALID, data
    assert await _votes(bot, poll_id) == []


async def test_double_tap_counts_once(start_bot: StartBot) -> None:
    """Two presses at once by one reader, on one card or on two copies, store one vote."""
    async with start_bot() as bot:
        emu = bot.emulator
        first, second = emu.create_user("Ida"), emu.create_user("Eli")
        poll_id = await create_article_poll(bot.db)
        owner = emu.create_user("Gus")
        group = emu.create_group("Readers", creator=owner, members=[first, second])
        await emu.add_bot_to_chat(group, by=owner)
        card = await post_poll_card(bot, group, poll_id)
        copy = await post_poll_card(bot, started_private_chat(emu, second), poll_id)
        yes = encode(VoteTap(poll_id, 0))

        answers = await asyncio.gather(
            emu.press_button(first, card, data=yes), emu.press_button(first, card, data=yes)
        )
        assert [a.text for a in answers] == ["You voted: Yes", "You voted: Yes"]
        answers = await asyncio.gather(
            emu.press_button(second, card, data=yes), emu.press_button(second, copy, data=yes)
        )
        assert [a.text for a in answers] == ["You voted: Yes", "You voted: Yes"]
        assert sorted(user for user, _ in await _votes(bot, poll_id)) == [first.id, second.id]


async def test_results_after_vote_stay_hidden_until_voted(bot: RunningBot) -> None:
    """With results shown after voting, the card hides counts and the voter's toast shows them."""
    emu = bot.emulator
    reader = emu.create_user("Uma")
    poll_id = await create_article_poll(bot.db, visibility=ResultsVisibility.AFTER_VOTE)
    card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
    assert [b["text"] for row in card.buttons[:2] for b in row] == ["Yes", "No"]

    answer = await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 1)))
    assert answer.text is not None
    assert answer.text.splitlines() == [
        "You voted: No",
        "Results so far · 1 votes",
        "Yes: 0% (0)",
        "No: 100% (1)",
    ]
    await asyncio.sleep(0.2)  # let live totals run; the card must still hide the counts
    assert [b["text"] for row in card.buttons[:2] for b in row] == ["Yes", "No"]
    assert "100%" not in (card.text or "")


async def test_poll_closes_on_time(bot: RunningBot) -> None:
    """A poll whose closing time comes is closed, and its card shows the closed keyboard."""
    emu = bot.emulator
    reader = emu.create_user("Tom")
    poll_id = await create_article_poll(bot.db, closes_at=utcnow() + timedelta(seconds=1))
    card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
    await emu.wait_for(
        lambda: "🔒 Poll closed" in [b["text"] for row in card.buttons for b in row],
        timeout=8,
        what="the closed keyboard",
    )
    live = await wait_until(lambda: bot.application.bot_data.polls.get(poll_id))
    assert live.closed
    answer = await emu.press_button(reader, card, text="🔒 Poll closed")
    assert answer.text == POLL_CLOSED
