"""/subscribe and /unsubscribe: a chat opts in or out of new articles.

In a private chat, `/subscribe @channel` connects a channel the user runs (and
`/unsubscribe @channel` disconnects it) once Telegram confirms the user is its admin and the
bot may post there.
"""

from __future__ import annotations

from telegram import Chat, Update

from bot.admins import is_chat_admin
from bot.chats.channel_rights import CHANNEL_USAGE, channel_name, check_channel
from bot.services import BotContext
from bot.telegram.records import remember_chat, remember_user
from storage import chats
from storage.chats import SubscribeResult
from storage.models import ChatKind

SUBSCRIBED = "✅ Subscribed. New articles will arrive in this chat."
ALREADY_SUBSCRIBED = "You are already subscribed here."
RESUBSCRIBED = "✅ Welcome back: new articles will arrive in this chat again."
UNSUBSCRIBED = "You are unsubscribed. Send /subscribe any time to come back."
NOT_SUBSCRIBED = "This chat is not subscribed, so there is nothing to stop."
GROUP_ADMINS_ONLY = "Only this group's admins can change its subscription."
CHANNEL_SUBSCRIBED = "✅ {name} is subscribed: new articles will be posted there."
CHANNEL_ALREADY_SUBSCRIBED = "{name} is already subscribed."
CHANNEL_RESUBSCRIBED = "✅ {name} is subscribed again: new articles will be posted there."
CHANNEL_UNSUBSCRIBED = "{name} is unsubscribed: no more articles will be posted there."
CHANNEL_NOT_SUBSCRIBED = "{name} is not subscribed, so there is nothing to stop."

_SUBSCRIBE_REPLIES = {
    SubscribeResult.SUBSCRIBED: SUBSCRIBED,
    SubscribeResult.ALREADY_SUBSCRIBED: ALREADY_SUBSCRIBED,
    SubscribeResult.RESUBSCRIBED: RESUBSCRIBED,
}
_CHANNEL_REPLIES = {
    SubscribeResult.SUBSCRIBED: CHANNEL_SUBSCRIBED,
    SubscribeResult.ALREADY_SUBSCRIBED: CHANNEL_ALREADY_SUBSCRIBED,
    SubscribeResult.RESUBSCRIBED: CHANNEL_RESUBSCRIBED,
}


async def subscribe(update: Update, context: BotContext) -> None:
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    if chat.type == Chat.PRIVATE and context.args:
        await _channel_subscription(update, context, subscribe=True)
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
    if chat.type == Chat.PRIVATE and context.args:
        await _channel_subscription(update, context, subscribe=False)
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


async def _channel_subscription(update: Update, context: BotContext, *, subscribe: bool) -> None:
    """`/subscribe @channel` or `/unsubscribe @channel` sent in a private chat."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not context.args:
        return
    name = channel_name(context.args[0])
    if name is None:
        await message.reply_text(CHANNEL_USAGE)
        return
    # Leaving needs no posting right: an admin may disconnect a channel that demoted the bot.
    check = await check_channel(context.bot, name=name, user_id=user.id, need_post_right=subscribe)
    if check.refusal is not None or (channel := check.channel) is None:
        await message.reply_text(check.refusal or CHANNEL_USAGE)
        return
    async with context.services.db.transaction() as session:
        await remember_user(session, user)
        await chats.upsert_chat(
            session,
            chat_id=channel.id,
            kind=ChatKind.CHANNEL,
            title=channel.title,
            username=channel.username,
        )
        if subscribe:
            reply = _CHANNEL_REPLIES[await chats.subscribe_chat(session, chat_id=channel.id)]
        else:
            stopped = await chats.unsubscribe_chat(session, chat_id=channel.id)
            reply = CHANNEL_UNSUBSCRIBED if stopped else CHANNEL_NOT_SUBSCRIBED
    await message.reply_text(reply.format(name=name))
