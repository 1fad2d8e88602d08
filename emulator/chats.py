"""Methods about the bot itself and the chats it is in: getMe, getChat*, leaveChat, commands."""

from __future__ import annotations

import re
from typing import Any

from emulator.access import ensure_member
from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.events import ADMIN_STATUSES, member_change
from emulator.state import BotAccount, Chat, JsonObject, Member

MAX_COMMANDS = 100
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


async def get_me(call: Call) -> object:
    bot = call.bot
    return {
        **bot.user.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": not bot.privacy_mode,
        "supports_inline_queries": bot.supports_inline_queries,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _visible_chat(call: Call) -> Chat:
    chat = call.world.chat_for_bot(call.bot, call.raw("chat_id"))
    # A public chat can be looked at from outside; a private group only by its members.
    if chat.username is None:
        ensure_member(call.bot, chat)
    return chat


async def get_chat(call: Call) -> object:
    chat = _visible_chat(call)
    info: JsonObject = {
        **chat.to_api(),
        "accent_color_id": chat.id % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": dict(_NO_GIFTS),
    }
    if chat.type in ("group", "supergroup"):
        info["permissions"] = {"can_send_messages": True, "can_send_photos": True}
    return info


async def get_chat_member(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = _visible_chat(call)
    user_id = call.integer("user_id") or 0
    user = world.users.get(user_id)
    if user is None:
        raise ApiError.bad_request("user not found")
    if chat.type == "private":
        if user_id not in (chat.id, bot.id):
            raise ApiError.bad_request("user not found")
        return Member(user, "member").to_api()
    member = chat.member(user_id)
    return (member or Member(user, "left")).to_api()


async def get_chat_administrators(call: Call) -> object:
    chat = _visible_chat(call)
    if chat.type == "private":
        raise ApiError.bad_request("there are no administrators in the private chat")
    return [m.to_api() for m in chat.members.values() if m.status in ADMIN_STATUSES]


async def leave_chat(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    if chat.type == "private":
        raise ApiError.bad_request("chat member status can't be changed in private chats")
    old = ensure_member(bot, chat)
    if old is None:
        raise ApiError.bad_request("chat not found")
    new = Member(bot.user, "left")
    chat.members[bot.id] = new
    member_change(world, chat, actor=bot.user, old=old, new=new)
    return True


def _scope_key(call: Call) -> tuple[str, int | None, int | None, str]:
    scope: dict[str, Any] = call.obj("scope") or {"type": "default"}
    kind = str(scope.get("type", "default"))
    chat_id: int | None = None
    user_id: int | None = None
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat = call.world.chat_for_bot(call.bot, scope.get("chat_id"))
        chat_id = chat.id
    if kind == "chat_member":
        raw_user = scope.get("user_id")
        if not isinstance(raw_user, int) or raw_user not in call.world.users:
            raise ApiError.bad_request("user not found")
        user_id = raw_user
    language = call.string("language_code") or ""
    if language and not _LANGUAGE.fullmatch(language):
        raise ApiError.bad_request("LANG_CODE_INVALID")
    return kind, chat_id, user_id, language


def _command(raw: object) -> JsonObject:
    if not isinstance(raw, dict):
        raise ApiError.bad_request("BOT_COMMAND_INVALID")
    command, description = raw.get("command"), raw.get("description")
    if not isinstance(command, str) or not _COMMAND.fullmatch(command):
        raise ApiError.bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description) <= 256:
        raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": command, "description": description}


async def set_my_commands(call: Call) -> object:
    raw_commands = call.items("commands") or []
    if len(raw_commands) > MAX_COMMANDS:
        raise ApiError.bad_request("BOT_COMMANDS_TOO_MUCH")
    commands = [_command(raw) for raw in raw_commands]
    key = _scope_key(call)
    bot: BotAccount = call.bot
    if commands:
        bot.commands[key] = commands
    else:
        bot.commands.pop(key, None)
    return True


async def get_my_commands(call: Call) -> object:
    return list(call.bot.commands.get(_scope_key(call), []))


async def delete_my_commands(call: Call) -> object:
    call.bot.commands.pop(_scope_key(call), None)
    return True


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "leaveChat": leave_chat,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
}
