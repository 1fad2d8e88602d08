"""Documents and photos bots upload, through python-telegram-bot's real multipart requests: what
the chat shows, the bytes kept, getFile and downloads, file_id reuse, and Telegram's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest

from emulator.simulation import BotAccount, Emulator, SimUser

# A 1x1 PNG, what a chart library writes (signature, IHDR, IDAT, IEND).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
CSV = b'option,votes\r\nYes,3\r\n"No, not yet",1\r\n'


@pytest.fixture(name="bot")
async def bot_fixture(emu: Emulator, account: BotAccount) -> AsyncIterator[Bot]:
    """python-telegram-bot's real client, downloading files from the emulator too."""
    async with Bot(account.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        yield bot


async def test_a_csv_document_goes_up_and_comes_back_byte_for_byte(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """sendDocument keeps name, type, size and bytes; getFile and the download give them back."""
    question = await emu.send_message(reader, "/export 7")
    sent = await bot.send_document(
        reader.id,
        CSV,
        filename="article-7.csv",
        caption="<b>Harbour news</b>: engagement",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="x")]]),
        reply_parameters=ReplyParameters(message_id=question.message_id),
    )
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type, sent.document.file_size) == (
        "article-7.csv",
        "text/csv",
        len(CSV),
    )
    assert sent.caption == "Harbour news: engagement"
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.message_id == question.message_id
    shown = emu.bot_messages(emu.private_chat(reader))[-1]
    assert (shown.html, shown.buttons[0][0]["text"]) == (
        "<b>Harbour news</b>: engagement",
        "Again",
    )
    assert emu.file_bytes(shown) == CSV
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == CSV


async def test_a_document_is_sent_again_by_its_file_id(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """The file_id Telegram returned sends the same document again, without another upload."""
    first = await bot.send_document(reader.id, CSV, filename="article-7.csv")
    assert first.document is not None
    again = await bot.send_document(reader.id, first.document.file_id, caption="Once more")
    assert again.document == first.document
    assert emu.file_bytes(emu.bot_messages(emu.private_chat(reader))[-1]) == CSV


@pytest.mark.parametrize(
    ("document", "caption", "error"),
    [
        (CSV, "c" * 1025, r"(?i)^message caption is too long$"),
        (b"", None, r"(?i)^file must be non-empty$"),
        ("not a file id", None, r"(?i)^wrong file identifier/http url specified$"),
        (CSV, "<b>open", r"(?i)^can't parse entities"),
    ],
)
async def test_send_document_refuses_what_telegram_refuses(
    emu: Emulator,
    bot: Bot,
    reader: SimUser,
    *,
    document: bytes | str,
    caption: str | None,
    error: str,
) -> None:
    """A caption over 1024 characters, an empty file, an unknown file id, broken HTML."""
    with pytest.raises(BadRequest, match=error):
        await bot.send_document(
            reader.id, document, filename="a.csv", caption=caption, parse_mode="HTML"
        )
    assert emu.bot_messages(emu.private_chat(reader)) == []


async def test_a_png_chart_goes_up_as_a_photo_and_its_bytes_are_kept(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """sendPhoto with an uploaded PNG keeps its bytes: the test and getFile read them back."""
    sent = await bot.send_photo(reader.id, PNG, filename="report.png", caption="Votes so far")
    shown = emu.bot_messages(emu.private_chat(reader))[-1]
    assert (shown.photo, shown.caption) == (True, "Votes so far")
    assert emu.file_bytes(shown) == PNG
    telegram_file = await bot.get_file(sent.photo[-1].file_id)
    assert telegram_file.file_path is not None
    assert telegram_file.file_path.endswith(".png")
    assert bytes(await telegram_file.download_as_bytearray()) == PNG
