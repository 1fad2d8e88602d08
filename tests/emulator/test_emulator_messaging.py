"""Sending, copying, forwarding, editing and deleting through the real client: limits, errors."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden

from emulator.formatting import Entity
from emulator.simulation import Emulator, SimUser

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in pairs]])


async def test_html_is_parsed_into_plain_text_and_entities(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """The chat shows the plain text, the bold entity, and the HTML re-rendered from them."""
    await bot.send_message(reader.id, "<b>Breaking</b>: rates &amp; bonds", parse_mode="HTML")
    shown = emu.bot_messages(emu.private_chat(reader))[-1]
    assert shown.text == "Breaking: rates & bonds"
    assert shown.entities == [Entity("bold", 0, 8)]
    assert shown.html == "<b>Breaking</b>: rates &amp; bonds"


async def test_broken_markup_is_refused_with_telegrams_text(bot: Bot, reader: SimUser) -> None:
    """Unclosed HTML gets the real "can't parse entities" error."""
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(reader.id, "<b>unclosed", parse_mode="HTML")


async def test_text_limit_counts_the_parsed_text(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """4096 characters after parsing pass even with tags around them; 4097 are too long."""
    await bot.send_message(reader.id, "<i>" + "a" * 4096 + "</i>", parse_mode="HTML")
    assert len(emu.bot_messages(emu.private_chat(reader))[-1].text or "") == 4096
    with pytest.raises(BadRequest, match=r"(?i)^message is too long$"):
        await bot.send_message(reader.id, "a" * 4097)


async def test_text_limit_counts_code_points_not_utf16_units(bot: Bot, reader: SimUser) -> None:
    """4096 emoji (8192 UTF-16 units) are still within the text limit."""
    sent = await bot.send_message(reader.id, "\U0001f4f0" * 4096)
    assert sent.text == "\U0001f4f0" * 4096


async def test_blank_text_is_empty(bot: Bot, reader: SimUser) -> None:
    """A text that is only whitespace gets "message text is empty"."""
    with pytest.raises(BadRequest, match=r"(?i)^message text is empty$"):
        await bot.send_message(reader.id, "   ")


async def test_caption_limit_is_1024(bot: Bot, reader: SimUser) -> None:
    """A caption over 1024 characters gets "message caption is too long"."""
    with pytest.raises(BadRequest, match=r"(?i)^message caption is too long$"):
        await bot.send_photo(reader.id, b"\x89PNG fake", caption="c" * 1025)


async def test_photo_upload_url_and_file_id(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """A photo can be uploaded, given by URL, or re-sent by the file_id Telegram returned."""
    uploaded = await bot.send_photo(
        reader.id, b"\x89PNG fake", caption="<b>Chart</b>", parse_mode="HTML"
    )
    by_url = await bot.send_photo(reader.id, "https://example.com/chart.png")
    again = await bot.send_photo(reader.id, uploaded.photo[-1].file_id)
    assert again.photo[-1].file_id == uploaded.photo[-1].file_id
    assert by_url.photo[-1].file_id != uploaded.photo[-1].file_id
    shown = emu.bot_messages(emu.private_chat(reader))[-3]
    assert (shown.photo, shown.text, shown.html) == (True, "Chart", "<b>Chart</b>")


async def test_unknown_file_identifier_is_refused(bot: Bot, reader: SimUser) -> None:
    """A string that is neither a URL nor a file_id is refused as Telegram does."""
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(reader.id, "not a file")


async def test_edit_keeps_history_and_current_content(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """After an edit the chat shows the new text and keyboard, the old version in edits."""
    sent = await bot.send_message(reader.id, "Poll: 0 votes", reply_markup=keyboard(("Vote", "v")))
    edited = await bot.edit_message_text(
        "Poll: <b>1</b> vote",
        reader.id,
        sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard(("Vote", "v"), ("Close", "c")),
    )
    assert not isinstance(edited, bool)
    assert edited.edit_date is not None
    shown = emu.bot_messages(emu.private_chat(reader))[-1]
    assert shown.html == "Poll: <b>1</b> vote"
    assert [b["text"] for b in shown.buttons[0]] == ["Vote", "Close"]
    assert [version.text for version in shown.edits] == ["Poll: 0 votes"]


async def test_edit_without_markup_removes_the_keyboard(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """editMessageText without reply_markup drops the inline keyboard, as Telegram does."""
    sent = await bot.send_message(reader.id, "Choose", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_text("Chosen", reader.id, sent.message_id)
    assert emu.bot_messages(emu.private_chat(reader))[-1].buttons == []


async def test_identical_edit_is_not_modified(bot: Bot, reader: SimUser) -> None:
    """Editing to the same text and keyboard gets Telegram's "message is not modified"."""
    sent = await bot.send_message(
        reader.id, "<b>Same</b>", parse_mode="HTML", reply_markup=keyboard(("A", "a"))
    )
    with pytest.raises(BadRequest) as caught:
        await bot.edit_message_text(
            "<b>Same</b>",
            reader.id,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard(("A", "a")),
        )
    assert caught.value.message.lower() == NOT_MODIFIED


async def test_identical_markup_edit_is_not_modified(bot: Bot, reader: SimUser) -> None:
    """editMessageReplyMarkup with the current keyboard is not modified either."""
    sent = await bot.send_message(reader.id, "Keys", reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match=r"(?i)^message is not modified"):
        await bot.edit_message_reply_markup(
            reader.id, sent.message_id, reply_markup=keyboard(("A", "a"))
        )


async def test_edit_of_a_deleted_message_is_not_found(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """Once a user deleted the message, edits get "message to edit not found"."""
    sent = await bot.send_message(reader.id, "Soon gone")
    emu.delete_chat_message(emu.private_chat(reader), sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)^message to edit not found$"):
        await bot.edit_message_text("Edited", reader.id, sent.message_id)


async def test_caption_edit_and_its_limit(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """A photo's caption is edited like text, with the caption limit."""
    sent = await bot.send_photo(reader.id, b"img", caption="Old")
    await bot.edit_message_caption(
        reader.id, sent.message_id, caption="<i>New</i>", parse_mode="HTML"
    )
    assert emu.bot_messages(emu.private_chat(reader))[-1].html == "<i>New</i>"
    with pytest.raises(BadRequest, match=r"(?i)^message caption is too long$"):
        await bot.edit_message_caption(reader.id, sent.message_id, caption="x" * 1025)


async def test_text_edit_of_a_photo_is_refused(bot: Bot, reader: SimUser) -> None:
    """editMessageText on a photo has no text to edit."""
    sent = await bot.send_photo(reader.id, b"img")
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("text", reader.id, sent.message_id)


async def test_users_messages_cannot_be_edited_by_the_bot(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """The bot may only edit its own messages."""
    mine = await emu.send_message(reader, "my words")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("your words", reader.id, mine.message_id)


async def test_delete_marks_the_message_deleted(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """deleteMessage removes the message from the chat; a second delete is not found."""
    sent = await bot.send_message(reader.id, "temporary")
    assert await bot.delete_message(reader.id, sent.message_id) is True
    assert all(m.message_id != sent.message_id for m in emu.messages(emu.private_chat(reader)))
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(reader.id, sent.message_id)


async def test_copy_and_forward(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """copyMessage returns a MessageId and copies content; forwardMessage names the origin."""
    other = emu.create_user("Otto")
    await emu.send_message(other, "/start")
    original = await emu.send_message(reader, "Look at #this")
    copied = await bot.copy_message(other.id, reader.id, original.message_id)
    forwarded = await bot.forward_message(other.id, reader.id, original.message_id)
    shown = emu.bot_messages(emu.private_chat(other))
    assert [m.text for m in shown] == ["Look at #this", "Look at #this"]
    assert shown[0].message_id == copied.message_id
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(other.id, reader.id, 9999)


async def test_reply_to_a_missing_message_is_refused(bot: Bot, reader: SimUser) -> None:
    """Replying to a message that does not exist gets "message to be replied not found"."""
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(reader.id, "re", reply_parameters=ReplyParameters(9999))


async def test_blocked_user_is_forbidden(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """After the user blocks the bot, sends get "bot was blocked by the user"; unblocking heals."""
    await emu.block_bot(reader)
    with pytest.raises(Forbidden, match=r"(?i)^Forbidden: bot was blocked by the user$"):
        await bot.send_message(reader.id, "hello?")
    await emu.unblock_bot(reader)
    assert (await bot.send_message(reader.id, "welcome back")).text == "welcome back"


async def test_user_who_never_started_cannot_be_messaged(emu: Emulator, bot: Bot) -> None:
    """A user who never wrote to the bot cannot be messaged first."""
    stranger = emu.create_user("Stan")
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "hi")


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    """A chat id Telegram does not know gets "chat not found"."""
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message(-100123456789, "anyone?")


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, reader: SimUser) -> None:
    """A button whose callback_data exceeds 64 bytes is refused."""
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(reader.id, "x", reply_markup=keyboard(("Go", "d" * 65)))


async def test_keyboard_over_100_buttons_is_refused(bot: Bot, reader: SimUser) -> None:
    """More than 100 inline buttons are refused."""
    rows = [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await bot.send_message(reader.id, "x", reply_markup=InlineKeyboardMarkup(rows))
