"""The web view's composer: people, chats and messages made by hand, as Telegram's users make them.

Each action takes the page's JSON object, checks every field (a bad one is refused with one line
that names it), then plays the user through `Emulator`, so the bot gets the very updates Telegram
would send: a message with its detected entities (commands, links, mentions), a document with its
bytes, my_chat_member when the bot is added or made an admin. Nothing here speaks HTTP:
emulator.web turns a `Refusal` into its status and `{"error": ...}`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from emulator import transcript
from emulator.content import MAX_CAPTION, MAX_TEXT
from emulator.files import DOWNLOAD_MAX_BYTES
from emulator.reactions import STANDARD_EMOJI
from emulator.state import BotAccount, Chat, JsonObject, Member, Message, User, World

if TYPE_CHECKING:
    from emulator.simulation import Emulator

Body = dict[str, object]
Action = Callable[["Emulator", Body], Awaitable[JsonObject]]

# As large as a bot may download with getFile: a larger file could never be read by the bot.
FILE_MAX_BYTES = DOWNLOAD_MAX_BYTES
NAME_MAX_CHARS = 64
TITLE_MAX_CHARS = 128
FILE_NAME_MAX_CHARS = 255
LANGUAGE_CODE_MAX_CHARS = 35
# Telegram's usernames: 5-32 of a-z, 0-9 and _, starting with a letter, not ending with _.
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]")
# An IETF language tag as Telegram passes it on: "en", "pt-br", "zh-hans".
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_BASE64 = "document.data must be the file's bytes in base64"


class Refusal(Exception):
    """What the composer will not do, as the page shows it: an HTTP status and one line."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


# --- fields ----------------------------------------------------------------------------------


def _optional_text(
    body: Body, name: str, *, max_chars: int, label: str | None = None
) -> str | None:
    """One line of text, trimmed; None when absent or blank."""
    label = label or name
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refusal(400, f"{label} must be text")
    value = value.strip()
    if not value:
        return None
    if _CONTROL.search(value):
        raise Refusal(400, f"{label} must be one line")
    if len(value) > max_chars:
        raise Refusal(400, f"{label} is at most {max_chars} characters")
    return value


def _required_text(body: Body, name: str, *, max_chars: int, label: str | None = None) -> str:
    value = _optional_text(body, name, max_chars=max_chars, label=label)
    if value is None:
        raise Refusal(400, f"{label or name} is required")
    return value


def _integer(body: Body, name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refusal(400, f"{name} must be an integer")
    return value


def _flag(body: Body, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Refusal(400, f"{name} must be true or false")
    return value


def _username(world: World, body: Body) -> str | None:
    username = _optional_text(body, "username", max_chars=33)
    if username is None:
        return None
    username = username.removeprefix("@")
    if not _USERNAME.fullmatch(username) or "__" in username:
        raise Refusal(400, "username: 5-32 letters, digits or underscores, starting with a letter")
    wanted = username.lower()
    names = {(user.username or "").lower() for user in world.users.values()}
    if wanted in names or wanted in world.chats_by_username:
        raise Refusal(409, f"@{username} is taken")
    return username


def _language_code(body: Body) -> str | None:
    code = _optional_text(body, "language_code", max_chars=LANGUAGE_CODE_MAX_CHARS)
    if code is not None and not _LANGUAGE_CODE.fullmatch(code):
        raise Refusal(400, "language_code is a language tag such as en or pt-br")
    return code


def _person(world: World, body: Body) -> User:
    user = world.users.get(_integer(body, "user_id"))
    if user is None or user.is_bot:
        raise Refusal(404, "no such user")
    return user


def _bot(world: World, body: Body) -> BotAccount:
    """The bot the body names by bot_id, or the emulator's only bot."""
    if body.get("bot_id") is not None:
        bot = world.bots.get(_integer(body, "bot_id"))
        if bot is None:
            raise Refusal(404, "no such bot")
        return bot
    if not world.bots:
        raise Refusal(409, "the emulator has no bot yet: start it with --token")
    if len(world.bots) > 1:
        raise Refusal(400, f"bot_id is required: the emulator has {len(world.bots)} bots")
    return next(iter(world.bots.values()))


def _chat(world: World, body: Body) -> Chat:
    key = body.get("chat")
    chat = transcript.find_chat(world, key) if isinstance(key, str) else None
    if chat is None:
        raise Refusal(404, "no such chat")
    if chat.migrated_to is not None:
        raise Refusal(409, "this group was upgraded to a supergroup: write in the supergroup")
    return chat


def _title(chat: Chat) -> str:
    return repr(chat.title or str(chat.id))


def _present_member(chat: Chat, user: User) -> Member:
    member = chat.member(user.id)
    if member is None or not member.present:
        raise Refusal(403, f"{transcript.user_name(user)} is not a member of {_title(chat)}")
    return member


def _document(body: Body) -> tuple[str, bytes] | None:
    """The attached file's name and bytes; refused when empty, too large or not base64."""
    value = body.get("document")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Refusal(400, "document must be an object with name and data")
    name = _required_text(value, "name", max_chars=FILE_NAME_MAX_CHARS, label="document.name")
    if "/" in name or "\\" in name:
        raise Refusal(400, "document.name is a file name, not a path")
    data = value.get("data")
    if not isinstance(data, str):
        raise Refusal(400, _NOT_BASE64)
    # Measured before decoding: an oversized file is refused without building its bytes.
    size = len(data) * 3 // 4 - data[-2:].count("=")
    if size > FILE_MAX_BYTES:
        raise Refusal(
            413,
            f"{name} is {size:,} bytes; the composer takes files of up to "
            f"{FILE_MAX_BYTES:,} bytes (what a bot may download)",
        )
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(400, _NOT_BASE64) from None
    if not content:
        raise Refusal(400, f"{name} is empty: Telegram sends no empty files")
    return name, content


def _message_text(body: Body, *, with_file: bool) -> str:
    """The text (a caption when a file goes with it), trimmed as Telegram's apps do."""
    value = body.get("text", "")
    if not isinstance(value, str):
        raise Refusal(400, "text must be text")
    text = value.strip()
    if with_file:
        if len(text) > MAX_CAPTION:
            raise Refusal(
                400, f"a file's caption is at most {MAX_CAPTION} characters, not {len(text)}"
            )
        return text
    if not text:
        raise Refusal(400, "type a message or attach a file")
    if len(text) > MAX_TEXT:
        raise Refusal(400, f"a message is at most {MAX_TEXT} characters, not {len(text)}")
    return text


def _reply_to(chat: Chat, body: Body) -> Message | None:
    if body.get("reply_to") is None:
        return None
    message = chat.messages.get(_integer(body, "reply_to"))
    if message is None or message.deleted or message.service:
        raise Refusal(404, "no such message to reply to")
    return message


def _user_view(user: User) -> JsonObject:
    return {
        "id": user.id,
        "name": transcript.user_name(user),
        "username": user.username,
        "language_code": user.language_code,
    }


# --- actions ---------------------------------------------------------------------------------


async def create_user(emulator: Emulator, body: Body) -> JsonObject:
    """A new person: first name, and optionally last name, username and language code."""
    world = emulator.world
    first_name = _required_text(body, "first_name", max_chars=NAME_MAX_CHARS)
    last_name = _optional_text(body, "last_name", max_chars=NAME_MAX_CHARS)
    username = _username(world, body)
    language_code = _language_code(body)
    user = emulator.create_user(
        first_name, last_name=last_name, username=username, language_code=language_code
    )
    return {"user": _user_view(user)}


async def open_private_chat(emulator: Emulator, body: Body) -> JsonObject:
    """The user's private chat with the bot; nothing is sent until the user writes."""
    world = emulator.world
    user = _person(world, body)
    chat = world.private_chat(_bot(world, body), user)
    if chat.blocked:
        raise Refusal(403, f"{transcript.user_name(user)} blocked the bot")
    return {"chat": transcript.chat_key(chat)}


async def create_group(emulator: Emulator, body: Body) -> JsonObject:
    """A new group (or supergroup) whose creator is the user; the bot is added separately."""
    world = emulator.world
    title = _required_text(body, "title", max_chars=TITLE_MAX_CHARS)
    creator = _person(world, body)
    chat = emulator.create_group(title, creator=creator, supergroup=_flag(body, "supergroup"))
    return {"chat": transcript.chat_key(chat)}


async def add_bot(emulator: Emulator, body: Body) -> JsonObject:
    """The user adds the bot to a group, or makes it an admin there (channels: admin only)."""
    world = emulator.world
    chat = _chat(world, body)
    user = _person(world, body)
    bot = _bot(world, body)
    admin = _flag(body, "admin")
    if chat.type == "private":
        raise Refusal(400, "bots are added to groups and channels, not to private chats")
    if chat.type == "channel" and not admin:
        raise Refusal(400, "a bot joins a channel only as an admin: send admin true")
    member = _present_member(chat, user)
    if admin and member.status not in transcript.ADMIN_STATUSES:
        raise Refusal(403, f"only an admin of {_title(chat)} can make the bot an admin")
    current = chat.member(bot.id)
    if current is not None and current.present and (not admin or current.status != "member"):
        role = "an admin" if current.status in transcript.ADMIN_STATUSES else "a member"
        raise Refusal(409, f"@{bot.username} is already {role} of {_title(chat)}")
    await emulator.add_bot_to_chat(chat, by=user, admin=admin, bot=bot)
    return {"chat": transcript.chat_key(chat), "status": chat.members[bot.id].status}


async def send(emulator: Emulator, body: Body) -> JsonObject:
    """The user writes in the chat: text or a command, a file, a reply; the bot gets it."""
    world = emulator.world
    chat = _chat(world, body)
    user = _person(world, body)
    document = _document(body)
    text = _message_text(body, with_file=document is not None)
    reply_to = _reply_to(chat, body)
    name = transcript.user_name(user)
    if chat.type == "channel":
        if document is not None or reply_to is not None:
            raise Refusal(400, "in a channel the composer posts text only")
        member = _present_member(chat, user)
        if not member.right("can_post_messages"):
            raise Refusal(403, f"{name} may not post in {_title(chat)}")
        posted = await emulator.post_in_channel(user, chat, text)
        return {"chat": transcript.chat_key(chat), "message_id": posted.message_id}
    if chat.type == "private":
        if chat.user is not user:
            owner = transcript.user_name(chat.user) if chat.user is not None else "its user"
            raise Refusal(403, f"only {owner} writes in this private chat")
        if chat.blocked:
            raise Refusal(403, f"{name} blocked the bot")
    else:
        member = _present_member(chat, user)
        if member.status == "restricted" and not member.rights.get("can_send_messages", False):
            raise Refusal(403, f"{name} may not send messages in {_title(chat)}")
    message = await emulator.send_message(
        user,
        text,
        chat=chat,
        bot=world.bots.get(chat.bot_id or 0),
        reply_to=reply_to,
        document=document,
    )
    return {"chat": transcript.chat_key(chat), "message_id": message.message_id}


async def react(emulator: Emulator, body: Body) -> JsonObject:
    """The user taps an emoji under a message: it becomes their reaction, or, tapped again,
    their reaction is taken back (one reaction each, as for people without Premium)."""
    world = emulator.world
    chat = _chat(world, body)
    user = _person(world, body)
    message = chat.messages.get(_integer(body, "message_id"))
    if message is None or message.deleted:
        raise Refusal(404, "no such message")
    symbol = body.get("emoji")
    if not isinstance(symbol, str) or symbol not in STANDARD_EMOJI:
        raise Refusal(400, "emoji must be one of Telegram's reaction emoji")
    chosen = {"type": "emoji", "emoji": symbol}
    mine = message.reactions.get(user.id, ())
    try:
        await emulator.react(user, chat, message.message_id, [] if chosen in mine else [symbol])
    except ValueError as error:
        raise Refusal(403, str(error)) from None
    return {"chat": transcript.chat_key(chat), "message_id": message.message_id}


# What the page posts to /web/api/<name>.
ACTIONS: dict[str, Action] = {
    "users": create_user,
    "private": open_private_chat,
    "groups": create_group,
    "bot-membership": add_bot,
    "send": send,
    "react": react,
}
