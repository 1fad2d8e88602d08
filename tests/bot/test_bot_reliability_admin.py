"""Odd admin input and where admins are answered: ids typed wrong or too big, arguments that are
huge, and admin commands sent in a group or channel, whose answers never show there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from bot_articles_support import final_status, reply_after
from harness import RunningBot
from polls_support import StartBot, create_article_poll, started_private_chat

from bot.admins import ANSWERED_HERE, PRIVATE_ONLY
from bot.articles.handlers import FETCHING
from bot.articles.publishing import FAILURE_SHOWN
from bot.broadcasts.handlers import CANCEL_USAGE
from bot.polls.admin import CLOSE_USAGE, RESULTS_USAGE
from bot.sharing.handlers import SHARE_USAGE
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats

# Each command with an id the database cannot hold or that only looks like digits, and its usage.
ODD_IDS = (
    ("/closepoll 99999999999999999999999", CLOSE_USAGE),
    ("/closepoll ²", CLOSE_USAGE),
    ("/results ٣", RESULTS_USAGE),
    ("/results 2147483648", RESULTS_USAGE),
    ("/share 2147483648", SHARE_USAGE),
    ("/cancel ²", CANCEL_USAGE),
)
HUGE = 10_000
# Each command with a huge argument, and how the one-line refusal that quotes it begins and ends.
HUGE_ARGUMENTS = (
    ("/publish " + "x" * HUGE, "Could not publish: xxx", "…: not an http(s) address"),
    (
        "/publish " + "y" * HUGE + " at 23:59",
        "Could not schedule: yyy",
        "… is not an http(s) address.",
    ),
    ("/broadcast --" + "z" * HUGE + " hi", "Unknown option --zzz", "; use --groups"),
)
BOT_USERNAME = "newsdesk_bot"


@dataclass
class Desk:
    """The running bot and several of its admins (a private chat gets one reply a second)."""

    bot: RunningBot
    editors: list[SimUser]


@pytest.fixture(name="desk")
async def desk_fixture(emulator: Emulator, start_bot: StartBot) -> AsyncIterator[Desk]:
    """The bot with eight admins in ADMIN_IDS."""
    editors = [emulator.create_user(f"Editor {n}") for n in range(8)]
    async with start_bot(admin_ids=frozenset(editor.id for editor in editors)) as running:
        yield Desk(running, editors)


async def _answer(emu: Emulator, chat: SimChat, sent: SimMessage) -> str:
    """The bot's answer to the message: the reply, or what /publish's "Fetching …" became."""
    reply = await reply_after(emu, chat, sent.message_id)
    text = reply.text or ""
    return await final_status(emu, reply) if text == FETCHING else text


async def test_odd_ids_get_the_usage_line(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    """Ids past what the database holds, superscripts and other non-ASCII digits each get the
    command's usage line, never a crash, and nothing is cancelled or closed."""
    emu = desk.bot.emulator

    async def ask(editor: SimUser, command: str) -> str:
        chat = started_private_chat(emu, editor)
        return await _answer(emu, chat, await emu.send_message(editor, command))

    answers = await asyncio.gather(
        *(
            ask(editor, command)
            for editor, (command, _) in zip(desk.editors, ODD_IDS, strict=False)
        )
    )

    assert list(answers) == [usage for _, usage in ODD_IDS]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_huge_arguments_are_quoted_back_shortened(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A 10,000-character argument gets a refusal that quotes its start and still gives the
    reason, in one short line, where the full echo would be over Telegram's 4,096."""
    emu = desk.bot.emulator

    async def ask(editor: SimUser, command: str) -> str:
        chat = started_private_chat(emu, editor)
        return await _answer(emu, chat, await emu.send_message(editor, command))

    answers = await asyncio.gather(
        *(
            ask(editor, command)
            for editor, (command, _, _) in zip(desk.editors, HUGE_ARGUMENTS, strict=False)
        )
    )

    for answer, (command, start, end) in zip(answers, HUGE_ARGUMENTS, strict=True):
        assert answer.startswith(start), command[:20]
        assert end in answer, command[:20]
        assert len(answer) < 300, command[:20]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_long_address_that_fails_keeps_its_reason(desk: Desk) -> None:
    """An address of 9,000 characters that cannot be fetched: the refusal shortens the address
    and still ends with why, within one message."""
    emu = desk.bot.emulator
    editor = desk.editors[0]
    chat = started_private_chat(emu, editor)
    address = "http://127.0.0.1:9/" + "a" * 9_000

    answer = await _answer(emu, chat, await emu.send_message(editor, f"/publish {address}"))

    assert answer.startswith("Could not publish: http://127.0.0.1:9/aaa")
    shortened, _, reason = answer.partition("…: ")
    assert reason.strip()
    assert len(shortened) < 200
    assert len(answer) <= FAILURE_SHOWN


async def test_admin_commands_in_a_group_are_answered_privately(desk: Desk) -> None:
    """/results and /stats sent in a group: the answers (and a note why) come in the admin's
    private chat, and the group sees nothing from the bot."""
    running = desk.bot
    emu, admin = running.emulator, desk.editors[1]
    private = started_private_chat(emu, admin)
    group = emu.create_group("Harbour watchers", creator=admin)
    await emu.add_bot_to_chat(group, by=admin)
    poll_id = await create_article_poll(running.db)

    first = await emu.send_message(admin, f"/results {poll_id}", chat=group)
    await emu.send_message(admin, "/stats", chat=group)

    def answered(fragment: str) -> SimMessage | None:
        return next((m for m in emu.bot_messages(private) if fragment in (m.text or "")), None)

    results = await emu.wait_for(lambda: answered("Total votes:"), timeout=10, what="results")
    await emu.wait_for(lambda: answered("Subscribers (active / inactive)"), timeout=10)
    assert f"(poll {poll_id})" in (results.text or "")
    note = ANSWERED_HERE.format(command="/results", chat="Harbour watchers")
    assert [m.text for m in emu.bot_messages(private)].count(note) == 1
    assert [m for m in emu.bot_messages(group) if m.message_id > first.message_id] == []


async def test_admins_the_bot_cannot_write_to_get_a_hint_in_the_group(desk: Desk) -> None:
    """An admin who never started the bot, and a channel post (no sender to write to), get the
    hint to use a private chat; the numbers are shown nowhere."""
    emu = desk.bot.emulator
    editor = desk.editors[0]
    group = emu.create_group("Night desk", creator=editor)
    await emu.add_bot_to_chat(group, by=editor)
    channel = emu.create_channel("Coast brief", creator=editor)
    await emu.add_bot_to_chat(channel, by=editor, admin=True)
    hint = PRIVATE_ONLY.format(bot=BOT_USERNAME)

    in_group = await emu.send_message(editor, "/stats", chat=group)
    in_channel = await emu.post_in_channel(editor, channel, "/stats")

    assert (await reply_after(emu, group, in_group.message_id)).text == hint
    assert (await reply_after(emu, channel, in_channel.message_id)).text == hint
    assert emu.bot_messages(emu.private_chat(editor)) == []
