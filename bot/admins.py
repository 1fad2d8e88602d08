"""Who may do what: bot admins from ADMIN_IDS, and chat administrators as Telegram reports them."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, Update
from telegram.error import TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)

ADMIN_ONLY = "This command is for admins."
_CHAT_ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})


def is_bot_admin(update: Update, context: BotContext) -> bool:
    """True for users in ADMIN_IDS; anyone else's attempt is logged."""
    user = update.effective_user
    if context.services.settings.is_admin(user.id if user else None):
        return True
    log.warning(
        "refused admin command from user %s in chat %s",
        user.id if user else "?",
        update.effective_chat.id if update.effective_chat else "?",
    )
    return False


async def is_chat_admin(update: Update, context: BotContext) -> bool:
    """In groups, whether the sender administers the group (anonymous admins post as the chat)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return False
    if chat.type in (Chat.PRIVATE, Chat.CHANNEL):
        # A private chat is its own admin; only a channel's admins can post commands in it.
        return True
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if (user := update.effective_user) is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        log.warning("could not check admin rights in chat %s: %s", chat.id, error)
        return False
    return member.status in _CHAT_ADMIN_STATUSES
