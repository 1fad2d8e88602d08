"""Connecting a channel from a private chat: is it a channel, does the user run it, may we post.

Telegram is asked three things: the channel by its @username, the user's standing there (creator
or administrator), and the bot's (administrator with the right to post). Each refusal names the
one thing that is missing, so the admin knows what to fix.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Bot, ChatFullInfo, ChatMember, ChatMemberAdministrator
from telegram.constants import ChatType
from telegram.error import TelegramError

log = logging.getLogger(__name__)

# Public usernames: 4-32 letters, digits and underscores, starting with a letter.
_CHANNEL_NAME = re.compile(r"(?:@|(?:https?://)?t\.me/)([A-Za-z][A-Za-z0-9_]{3,31})/?")

CANT_FIND = "I can't find {name}: add me as an admin first."
NOT_A_CHANNEL = "{name} is not a channel. To subscribe a group, send /subscribe in the group."
NOT_CHANNEL_ADMIN = "You are not an admin of {name}."
NEED_POST_RIGHT = "I need the 'Post messages' right in {name}."
CHANNEL_USAGE = "To connect a channel you run, send /subscribe @channel (its public username)."


def channel_name(text: str) -> str | None:
    """ "@name" for what the user typed ("@name" or a t.me link), or None if it is neither."""
    match = _CHANNEL_NAME.fullmatch(text.strip())
    return f"@{match.group(1)}" if match else None


@dataclass(frozen=True)
class ChannelCheck:
    """The channel as Telegram shows it, or why it cannot be connected (`refusal`)."""

    channel: ChatFullInfo | None
    refusal: str | None = None


_USER_ADMIN = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


async def check_channel(
    bot: Bot, *, name: str, user_id: int, need_post_right: bool = True
) -> ChannelCheck:
    """Whether `user_id` runs the channel `name` and (with `need_post_right`) we may post there."""
    try:
        channel = await bot.get_chat(name)
    except TelegramError as error:
        log.info("channel %s not found: %s", name, error)
        return ChannelCheck(None, CANT_FIND.format(name=name))
    if channel.type != ChatType.CHANNEL:
        return ChannelCheck(None, NOT_A_CHANNEL.format(name=name))
    refusal = await _user_refusal(bot, channel, name, user_id)
    if refusal is None and need_post_right:
        refusal = await _bot_refusal(bot, channel, name)
    return ChannelCheck(None if refusal else channel, refusal)


async def channel_admin_refusal(bot: Bot, *, channel_id: int, user_id: int) -> str | None:
    """Why ``user_id`` may not act for the channel ``channel_id`` any more (not its admin, or the
    channel gone), or None: asked again at each tap of a channel's settings buttons."""
    try:
        channel = await bot.get_chat(channel_id)
    except TelegramError as error:
        log.info("channel %s not found: %s", channel_id, error)
        return CANT_FIND.format(name="that channel")
    if channel.type != ChatType.CHANNEL:
        return NOT_A_CHANNEL.format(name=channel.title or "that chat")
    name = f"@{channel.username}" if channel.username else channel.title or "that channel"
    return await _user_refusal(bot, channel, name, user_id)


async def _user_refusal(bot: Bot, channel: ChatFullInfo, name: str, user_id: int) -> str | None:
    try:
        user = await bot.get_chat_member(channel.id, user_id)
    except TelegramError as error:
        # Telegram shows a channel's members only to its admins: we are not one.
        log.info("members of %s not readable: %s", name, error)
        return CANT_FIND.format(name=name)
    return None if user.status in _USER_ADMIN else NOT_CHANNEL_ADMIN.format(name=name)


async def _bot_refusal(bot: Bot, channel: ChatFullInfo, name: str) -> str | None:
    try:
        me = await bot.get_chat_member(channel.id, bot.id)
    except TelegramError as error:
        log.info("our rights in %s not readable: %s", name, error)
        return NEED_POST_RIGHT.format(name=name)
    if isinstance(me, ChatMemberAdministrator) and me.can_post_messages:
        return None
    return NEED_POST_RIGHT.format(name=name)
