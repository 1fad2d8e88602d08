"""Whose settings a command or a settings button is about, and whether its sender may change them.

A private chat's reader changes their own; in a group or supergroup only its admins may (asked
of Telegram at every command and every tap); a channel's admins change its settings from their
private chat with ``/settings @channel``, and each tap there asks Telegram again whether they
still run it. A channel post never opens settings where subscribers would see them.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat, Message, Update

from bot.admins import is_chat_admin
from bot.chats.channel_rights import channel_admin_refusal, channel_name, check_channel
from bot.chats.subscription import GROUP_ADMINS_ONLY
from bot.polls.votes import NOT_VALID
from bot.preferences.view import Audience
from bot.services import BotContext
from bot.telegram.callback_data import SettingsTap
from bot.telegram.records import remember_chat, remember_user
from storage import chats
from storage.models import ChatKind

GROUP_ADMINS_ONLY_TAP = "Only this group's admins can change its settings."
IN_PRIVATE = (
    "A channel's settings are changed in private: send me /settings @{channel} in a private chat."
)
SETTINGS_CHANNEL_USAGE = (
    "To change a channel's settings, send /settings @channel (its public username)."
)
THIS_CHAT = "this chat"


@dataclass(frozen=True)
class Whose:
    """The chat whose preferences change, how messages name it, and the command's other words."""

    chat_id: int
    audience: Audience
    args: tuple[str, ...] = ()


def _label(chat: Chat) -> str:
    return THIS_CHAT if chat.type == Chat.PRIVATE else chat.title or "this group"


async def command_audience(update: Update, context: BotContext) -> Whose | None:
    """Whose settings the command in ``update`` changes; None once a refusal has been sent."""
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return None
    args = tuple(context.args or ())
    bot_zone = context.services.settings.timezone
    if chat.type == Chat.CHANNEL:
        channel = f"{chat.username}" if chat.username else "channel"
        await message.reply_text(IN_PRIVATE.format(channel=channel))
        return None
    if chat.type == Chat.PRIVATE and args and args[0].startswith(("@", "t.me/", "https://t.me/")):
        return await _channel_audience(update, context, message, args)
    if not await is_chat_admin(update, context):
        await message.reply_text(GROUP_ADMINS_ONLY)
        return None
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, chat)
    return Whose(chat.id, Audience(_label(chat), None, bot_zone), args)


async def _channel_audience(
    update: Update, context: BotContext, message: Message, args: tuple[str, ...]
) -> Whose | None:
    """``/settings @channel`` (or /timezone, /quiet) from a private chat: the user must run it."""
    if (user := update.effective_user) is None:
        return None
    if (name := channel_name(args[0])) is None:
        await message.reply_text(SETTINGS_CHANNEL_USAGE)
        return None
    check = await check_channel(context.bot, name=name, user_id=user.id, need_post_right=False)
    if check.refusal is not None or (channel := check.channel) is None:
        await message.reply_text(check.refusal or SETTINGS_CHANNEL_USAGE)
        return None
    async with context.services.db.transaction() as session:
        await remember_user(session, user)
        await remember_chat(session, channel)
    audience = Audience(name, channel.id, context.services.settings.timezone)
    return Whose(channel.id, audience, args[1:])


async def tap_audience(update: Update, context: BotContext, tap: SettingsTap) -> Whose | str:
    """Whose settings the tapped button changes, or the toast refusing the tap."""
    query = update.callback_query
    if query is None or not isinstance(message := query.message, Message):
        return NOT_VALID
    chat = message.chat
    bot_zone = context.services.settings.timezone
    if tap.channel_id is not None:
        # Only a private chat ever shows a channel's settings, to the admin who asked for them.
        if chat.type != Chat.PRIVATE or chat.id != query.from_user.id:
            return NOT_VALID
        return await _channel_tap_audience(context, tap.channel_id, query.from_user.id)
    if chat.type == Chat.CHANNEL:
        return NOT_VALID
    if not await is_chat_admin(update, context):
        return GROUP_ADMINS_ONLY_TAP
    return Whose(chat.id, Audience(_label(chat), None, bot_zone))


async def _channel_tap_audience(context: BotContext, channel_id: int, user_id: int) -> Whose | str:
    """A channel's settings button: a channel the bot knows, which the tapper still runs."""
    async with context.services.db.transaction() as session:
        channel = await chats.get_chat(session, chat_id=channel_id)
    if channel is None or channel.kind != ChatKind.CHANNEL:
        return NOT_VALID
    refusal = await channel_admin_refusal(context.bot, channel_id=channel_id, user_id=user_id)
    if refusal is not None:
        return refusal
    name = f"@{channel.username}" if channel.username else channel.title or "the channel"
    return Whose(channel.id, Audience(name, channel.id, context.services.settings.timezone))
