"""/subscribe and /unsubscribe: a chat opts in or out of new articles."""

from __future__ import annotations

from telegram import Chat, Update

from bot.admins import is_chat_admin
from bot.context import BotContext
from bot.records import remember_chat, remember_user
from storage import chats
from storage.chats import SubscribeResult

SUBSCRIBED = "✅ Subscribed. New articles will arrive in this chat."
ALREADY_SUBSCRIBED = "You are already subscribed here."
RESUBSCRIBED = "✅ Welcome back: new articles will arrive in this chat again."
UNSUBSCRIBED = "You are unsubscribed. Send /subscribe any time to come back."
NOT_SUBSCRIBED = "This chat is not subscribed, so there is nothing to stop."
GROUP_ADMINS_ONLY = "Only this group's admins can change its subscription."

_SUBSCRIBE_REPLIES = {
    SubscribeResult.SUBSCRIBED: SUBSCRIBED,
    SubscribeResult.ALREADY_SUBSCRIBED: ALREADY_SUBSCRIBED,
    SubscribeResult.RESUBSCRIBED: RESUBSCRIBED,
}


async def subscribe(update: Update, context: BotContext) -> None:
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    if not await _may_change_subscription(update, context):
        await message.reply_text(GROUP_ADMINS_ONLY)
        return
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, chat)
        result = await chats.subscribe_chat(session, chat_id=chat.id)
    await message.reply_text(_SUBSCRIBE_REPLIES[result])


async def unsubscribe(update: Update, context: BotContext) -> None:
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    if not await _may_change_subscription(update, context):
        await message.reply_text(GROUP_ADMINS_ONLY)
        return
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, chat)
        was_subscribed = await chats.unsubscribe_chat(session, chat_id=chat.id)
    await message.reply_text(UNSUBSCRIBED if was_subscribed else NOT_SUBSCRIBED)


async def _may_change_subscription(update: Update, context: BotContext) -> bool:
    chat = update.effective_chat
    if chat is None or chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
        return True
    return await is_chat_admin(update, context)
