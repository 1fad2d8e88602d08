"""Odd input to a running bot: every command with huge, right-to-left, control-character, emoji
and markup arguments, and a non-UTF-8 article file. A clear answer each time, no crash, nothing
half-written."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from bot_articles_support import count_articles, final_status, reply_after
from harness import RunningBot
from polls_support import StartBot, started_private_chat

from bot.admins import ADMIN_ONLY
from bot.articles.handlers import FETCHING
from bot.runtime.error_handler import SOMETHING_WENT_WRONG
from emulator.simulation import Emulator, SimUser

ODD_ARGUMENTS = (
    "x" * 4000,
    "\u202eevil\u202c مرحبا بالعالم",
    "\x01\x1b[31mred\x7f\u200b\ufeff",
    "🧨👩‍👩‍👧‍👦🏳️‍🌈" * 20,
    "<b>unclosed &amp; &#xD800; *_[`",
    "99999999999999999999999 -1 0x10",
    "' OR 1=1; -- ../../etc/passwd",
)
COMMANDS = (
    "start",
    "help",
    "publish",
    "broadcast",
    "share",
    "results",
    "closepoll",
    "latest",
    "queue",
    "cancel",
    "autocards",
    "stats",
)
# Conversations, about what each answer says, not about the pace of answers in a private chat.
pytestmark = pytest.mark.quick_private_chats


@dataclass
class Newsroom:
    """The running bot and its admins, one per odd argument, answered side by side."""

    bot: RunningBot
    editors: list[SimUser]


@pytest.fixture(name="newsroom")
async def newsroom_fixture(emulator: Emulator, start_bot: StartBot) -> AsyncIterator[Newsroom]:
    """The bot with one admin per odd argument, each trying every command in their own chat."""
    editors = [emulator.create_user(f"Editor {n}") for n in range(len(ODD_ARGUMENTS))]
    admin_ids = frozenset(editor.id for editor in editors)
    async with start_bot(fetch_timeout=1.0, admin_ids=admin_ids) as running:
        yield Newsroom(running, editors)


async def test_every_command_answers_odd_arguments_clearly(
    newsroom: Newsroom, caplog: pytest.LogCaptureFixture
) -> None:
    """Each command with each odd argument gets a reply; none is the apology for a crash."""
    emu = newsroom.bot.emulator

    async def try_all(person: SimUser, argument: str) -> None:
        chat = started_private_chat(emu, person)
        for command in COMMANDS:
            sent = await emu.send_message(person, f"/{command} {argument}"[:4096])
            reply = await reply_after(emu, chat, sent.message_id)
            text = reply.text or reply.caption or ""
            if text == FETCHING:
                text = await final_status(emu, reply)
            assert text.strip(), f"/{command} gave an empty answer"
            assert text != SOMETHING_WENT_WRONG, f"/{command} crashed"

    await asyncio.gather(*map(try_all, newsroom.editors, ODD_ARGUMENTS))
    assert await count_articles(newsroom.bot.db) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_non_utf8_article_file_is_refused(bot_with_admin: RunningBot) -> None:
    """A .md upload that is not UTF-8 gets a clear refusal and stores nothing."""
    emu = bot_with_admin.emulator
    chat = started_private_chat(emu, bot_with_admin.admin)
    data = b"---\ntitle: Caf\xe9 \xff\xfe\n---\n\x80\x81 body\n"
    upload = await emu.send_message(bot_with_admin.admin, "", document=("latin1.md", data))
    sent = await emu.send_message(bot_with_admin.admin, "/publish", reply_to=upload)
    reply = await reply_after(emu, chat, sent.message_id)
    outcome = reply.text if reply.text != FETCHING else await final_status(emu, reply)
    assert outcome is not None
    assert "UTF-8" in outcome
    assert await count_articles(bot_with_admin.db) == 0


@pytest.fixture(name="bot_with_admin")
async def bot_with_admin_fixture(start_bot: StartBot) -> AsyncIterator[RunningBot]:
    """The bot with its one admin."""
    async with start_bot() as running:
        yield running


async def test_admin_commands_from_a_reader_are_refused_and_logged(
    bot_with_admin: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader trying admin commands gets the refusal each time, and each try is logged."""
    emu = bot_with_admin.emulator
    reader = emu.create_user("Mallory")
    chat = started_private_chat(emu, reader)
    caplog.set_level(logging.WARNING, logger="bot.admins")
    caplog.clear()
    for command in ("publish https://news.example/a", "broadcast hi", "closepoll 1", "stats"):
        sent = await emu.send_message(reader, f"/{command}")
        reply = await reply_after(emu, chat, sent.message_id)
        assert reply.text == ADMIN_ONLY
    refusals = [
        r for r in caplog.records if r.name == "bot.admins" and str(reader.id) in r.message
    ]
    assert len(refusals) == 4
    assert await count_articles(bot_with_admin.db) == 0
