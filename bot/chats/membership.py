"""The bot's own membership: added, removed, blocked, unblocked; groups becoming supergroups."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot.services import BotContext
from bot.telegram.records import chat_kind, remember_user
from storage import chats
from storage.models import StopReason

log = logging.getLogger(__name__)

_PRESENT = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})


async def bot_membership_changed(update: Update, context: BotContext) -> None:
    """Records where the bot is; a removal or block stops pushes, a return does not resume them."""
    if (change := update.my_chat_member) is None:
        return
    chat, status = change.chat, change.new_chat_member.status
    present = status in _PRESENT
    reason: StopReason | None = None
    if status == ChatMember.BANNED:
        reason = StopReason.BLOCKED if chat.type == chat.PRIVATE else StopReason.KICKED
    elif status == ChatMember.LEFT:
        reason = StopReason.LEFT
    async with context.services.db.transaction() as session:
        await remember_user(session, change.from_user)
        await chats.record_bot_membership(
            session,
            chat_id=chat.id,
            kind=chat_kind(chat),
            title=chat.title or chat.full_name,
            username=chat.username,
            present=present,
            reason=reason,
        )
    log.info("bot is now %s in chat %s (%s)", status, chat.id, chat.type)


async def group_migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its subscription and history move to the new id."""
    if (message := update.effective_message) is None or message.migrate_to_chat_id is None:
        return
    old_id, new_id = message.chat.id, message.migrate_to_chat_id
    async with context.services.db.transaction() as session:
        await chats.migrate_chat(session, old_id=old_id, new_id=new_id)
    log.info("chat %s migrated to supergroup %s", old_id, new_id)
