"""The simulation API itself: waiting without sleeps, reading chats, user edits, the CLI."""

from __future__ import annotations

import asyncio
import sys

import pytest
from telegram import Bot, MessageEntity

from emulator.simulation import Emulator, SimUser

TOKEN = "777888:simulation-test-token"


async def test_wait_for_bot_message_returns_the_next_reply(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """wait_for_bot_message resolves when the bot posts after the given message id."""
    chat = emu.private_chat(reader)
    asked = await emu.send_message(reader, "latest?")
    waiting = asyncio.create_task(emu.wait_for_bot_message(chat, after=asked.message_id))
    await bot.send_message(reader.id, "Here is the latest")
    reply = await waiting
    assert (reply.text, reply.from_bot) == ("Here is the latest", True)
    assert [m.text for m in emu.messages(chat)] == ["/start", "latest?", "Here is the latest"]


async def test_wait_for_times_out_with_a_description(emu: Emulator) -> None:
    """A predicate that never holds raises TimeoutError naming what was awaited."""
    with pytest.raises(TimeoutError, match=r"the moon"):
        await emu.wait_for(lambda: None, timeout=0.05, what="the moon")


@pytest.mark.usefixtures("reader")
async def test_user_messages_carry_detected_entities(bot: Bot) -> None:
    """A user's command arrives with its bot_command entity, the user's names and a date."""
    updates = await bot.get_updates()
    message = updates[0].message
    assert message is not None
    assert message.text == "/start"
    assert [e.type for e in message.entities] == ["bot_command"]
    assert message.from_user is not None
    assert (message.from_user.first_name, message.from_user.last_name) == ("Rita", "Reader")


async def test_user_edit_sends_edited_message(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """A user editing their message gives the bot edited_message with the new text."""
    sent = await emu.send_message(reader, "tpyo")
    await emu.edit_message(reader, sent, "typo")
    updates = await bot.get_updates()
    edited = [u.edited_message for u in updates if u.edited_message]
    assert [m.text for m in edited] == ["typo"]
    assert sent.edits[0].text == "tpyo"


async def test_document_from_a_user_arrives_with_its_caption(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """A user's document arrives as a document with the text as its caption."""
    await emu.send_message(reader, "feed list", document=("feeds.opml", b"<opml/>"))
    message = (await bot.get_updates())[-1].message
    assert message is not None
    assert message.document is not None
    assert (message.document.file_name, message.caption) == ("feeds.opml", "feed list")


async def test_blocked_user_cannot_write(emu: Emulator, reader: SimUser) -> None:
    """A simulated user who blocked the bot cannot send it messages until unblocking."""
    await emu.block_bot(reader)
    with pytest.raises(RuntimeError, match=r"blocked"):
        await emu.send_message(reader, "hello?")


async def test_standalone_server_prints_its_base_url() -> None:
    """`python -m emulator --port 0 --token T` serves that token and prints its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--no-limits",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        base_url = line.decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with Bot(TOKEN, base_url=base_url) as bot:
            assert (await bot.get_me()).id == 777888
    finally:
        process.terminate()
        await process.wait()


async def test_html_rendering_keeps_nesting_links_and_code(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """SimMessage.html re-renders nested formatting, links and code blocks from the entities."""
    html = (
        '<b>bold <i>both</i></b> <a href="https://example.com/a">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> &lt;raw&gt;'
    )
    await bot.send_message(reader.id, html, parse_mode="HTML")
    shown = emu.bot_messages(emu.private_chat(reader))[-1]
    assert shown.text == "bold both link x = 1 <raw>"
    assert shown.html == html


async def test_html_rendering_reopens_a_tag_around_a_partial_overlap(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """Bold and italic that only partly overlap (as explicit entities may) still nest in HTML."""
    overlapping = [MessageEntity("bold", 0, 6), MessageEntity("italic", 5, 6)]
    await bot.send_message(reader.id, "bold & both", entities=overlapping)
    shown = emu.bot_messages(emu.private_chat(reader))[-1]
    assert [(e.type, e.offset, e.length) for e in shown.entities] == [
        ("bold", 0, 6),
        ("italic", 5, 6),
    ]
    assert shown.html == "<b>bold <i>&amp;</i></b><i> both</i>"
