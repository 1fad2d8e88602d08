"""Button presses and inline mode, played by simulated users, answered through the real client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest

from emulator.clock import ManualClock
from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimMessage, SimUser

TOO_OLD = "query is too old and response timeout expired or query id is invalid"
VOTE = InlineKeyboardMarkup([[InlineKeyboardButton("Vote", callback_data="vote:1")]])


@pytest.fixture(name="clock")
def clock_fixture() -> ManualClock:
    """The emulator's clock, moved by hand."""
    return ManualClock()


@pytest.fixture(name="emu")
async def emu_fixture(clock: ManualClock) -> AsyncIterator[Emulator]:
    """An emulator on a manual clock without flood limits."""
    async with Emulator(limits=RateLimits.unlimited(), clock=clock) as running:
        yield running


@pytest.fixture(name="reader")
async def reader_fixture(reader: SimUser, bot: Bot) -> SimUser:
    """The shared reader, with her /start update already confirmed."""
    await next_update(bot)
    return reader


@pytest.fixture(name="poll_message")
async def poll_message_fixture(emu: Emulator, bot: Bot, reader: SimUser) -> SimMessage:
    """A bot message with a Vote button, in the reader's chat."""
    await bot.send_message(reader.id, "Vote now", reply_markup=VOTE)
    return emu.bot_messages(emu.private_chat(reader))[-1]


async def next_update(bot: Bot) -> Update:
    """Wait for one update and confirm it."""
    updates = await bot.get_updates(timeout=5)
    await bot.get_updates(offset=updates[0].update_id + 1)
    return updates[0]


async def test_press_returns_the_bots_answer(
    emu: Emulator, bot: Bot, reader: SimUser, poll_message: SimMessage
) -> None:
    """press_button sends callback_query with the message and data; returns the answer."""
    press = asyncio.create_task(emu.press_button(reader, poll_message, text="Vote"))
    update = await next_update(bot)
    query = update.callback_query
    assert query is not None
    assert (query.data, query.from_user.id) == ("vote:1", reader.id)
    assert query.message is not None
    assert query.message.message_id == poll_message.message_id
    assert await bot.answer_callback_query(query.id, "Counted!", show_alert=True)
    answer = await press
    assert (answer.text, answer.show_alert) == ("Counted!", True)


async def test_second_answer_is_too_old(
    emu: Emulator, bot: Bot, reader: SimUser, poll_message: SimMessage
) -> None:
    """A callback query is answered once; the second answer gets "query is too old"."""
    press = asyncio.create_task(emu.press_button(reader, poll_message, data="vote:1"))
    query = (await next_update(bot)).callback_query
    assert query is not None
    await bot.answer_callback_query(query.id)
    await press
    with pytest.raises(BadRequest) as caught:
        await bot.answer_callback_query(query.id)
    assert caught.value.message.lower() == TOO_OLD


async def test_late_answer_is_too_old_and_the_press_times_out(
    emu: Emulator, bot: Bot, reader: SimUser, poll_message: SimMessage, clock: ManualClock
) -> None:
    """After 15 s on the emulator's clock the answer is refused; the press sees no answer."""
    press = asyncio.create_task(emu.press_button(reader, poll_message, text="Vote", timeout=0.5))
    query = (await next_update(bot)).callback_query
    assert query is not None
    clock.advance(15.5)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(TimeoutError):
        await press


async def test_answer_text_over_200_characters_is_refused(
    emu: Emulator, bot: Bot, reader: SimUser, poll_message: SimMessage
) -> None:
    """answerCallbackQuery text is limited to 200 characters: MESSAGE_TOO_LONG."""
    press = asyncio.create_task(emu.press_button(reader, poll_message, text="Vote"))
    query = (await next_update(bot)).callback_query
    assert query is not None
    with pytest.raises(BadRequest, match=r"(?i)^message_too_long$"):
        await bot.answer_callback_query(query.id, "x" * 201)
    await bot.answer_callback_query(query.id, "x" * 200)
    assert (await press).text == "x" * 200


async def test_unknown_button_is_reported(
    emu: Emulator, reader: SimUser, poll_message: SimMessage
) -> None:
    """Pressing a button the message does not have fails in the test, not silently."""
    with pytest.raises(LookupError):
        await emu.press_button(reader, poll_message, text="Nope")


async def test_inline_query_choose_press_and_edit(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """An inline result posted by a user can be pressed and edited by inline_message_id."""
    asking = asyncio.create_task(emu.inline_query(reader, "rates"))
    inline_query = (await next_update(bot)).inline_query
    assert inline_query is not None
    assert inline_query.query == "rates"
    article = InlineQueryResultArticle(
        "a1",
        "Rates",
        InputTextMessageContent("<b>Rates</b> up", parse_mode="HTML"),
        reply_markup=VOTE,
    )
    assert await bot.answer_inline_query(inline_query.id, [article])
    answer = await asking
    group = emu.create_group("Readers", creator=reader)
    posted = await emu.choose_inline_result(reader, answer, "a1", chat=group)
    chosen = (await next_update(bot)).chosen_inline_result
    assert chosen is not None
    assert chosen.inline_message_id == posted.inline_message_id
    assert posted.html == "<b>Rates</b> up"

    press = asyncio.create_task(emu.press_button(reader, posted, text="Vote"))
    query = (await next_update(bot)).callback_query
    assert query is not None
    assert query.inline_message_id == posted.inline_message_id
    assert query.message is None
    await bot.answer_callback_query(query.id)
    await press

    edited = await bot.edit_message_text("Rates down", inline_message_id=posted.inline_message_id)
    assert edited is True
    assert emu.inline_message(posted.inline_message_id or "").text == "Rates down"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Rates down", inline_message_id=posted.inline_message_id)


async def test_inline_answer_limits(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """More than 50 results, or duplicate ids, are refused."""
    asking = asyncio.create_task(emu.inline_query(reader, "q", timeout=0.5))
    inline_query = (await next_update(bot)).inline_query
    assert inline_query is not None

    def article(result_id: str) -> InlineQueryResultArticle:
        return InlineQueryResultArticle(result_id, "t", InputTextMessageContent("x"))

    with pytest.raises(BadRequest, match=r"(?i)results_too_much"):
        await bot.answer_inline_query(inline_query.id, [article(str(i)) for i in range(51)])
    with pytest.raises(BadRequest, match=r"(?i)result_id_duplicate"):
        await bot.answer_inline_query(inline_query.id, [article("1"), article("1")])
    with pytest.raises(TimeoutError):
        await asking
