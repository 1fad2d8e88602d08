"""What the preferences tests share: opening /settings, tapping its buttons and waiting for the
edit, the buttons a message shows, and the preferences the bot stored."""

from __future__ import annotations

from harness import RunningBot

from emulator.simulation import Emulator
from emulator.state import Chat, Message, User
from storage import preferences
from storage.preferences import ChatPreferences


async def open_settings(
    emu: Emulator, user: User, chat: Chat, command: str = "/settings"
) -> Message:
    """The settings message the bot sends in ``chat`` for ``command`` sent there by ``user``
    (a private ``chat`` means the user's chat with the bot)."""
    sent = await emu.send_message(user, command, chat=None if chat.type == "private" else chat)
    return await emu.wait_for_bot_message(chat, after=sent.message_id)


async def tap(emu: Emulator, user: User, message: Message, text: str) -> str | None:
    """The user taps the button labelled ``text``; the toast, once the message is edited."""
    edits = len(message.edits)
    answer = await emu.press_button(user, message, text=text)
    await emu.wait_for(lambda: len(message.edits) > edits, what=f"the edit after {text!r}")
    return answer.text


def buttons(message: Message) -> list[str]:
    """Every button's label, row after row."""
    return [str(button.get("text")) for row in message.buttons for button in row]


async def stored(running_bot: RunningBot, chat_id: int) -> ChatPreferences:
    async with running_bot.db.transaction() as session:
        chosen = await preferences.chat_preferences(session, chat_id=chat_id)
    assert chosen is not None
    return chosen
