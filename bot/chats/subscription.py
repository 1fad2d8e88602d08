"""/subscribe and /unsubscribe: a chat opts in or out of new articles.

In a private chat, `/subscribe @channel` connects a channel the user runs (and
`/unsubscribe @channel` disconnects it) once Telegram confirms the user is its admin and the
bot may post there. Sent inside a topic of a forum supergroup, they are about that topic alone
(bot/chats/topics.py); in its General topic, about the group.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Chat, Update

from bot.admins import is_chat_admin
from bot.chats.channel_rights import CHANNEL_USAGE, channel_name, check_channel
from bot.chats.topics import switch_topic, topic_of, topic_title
from bot.services import BotContext
from bot.telegram.records import remember_chat, remember_user
from storage import chats
from storage.chats import SubscribeResult

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


@dataclass(frozen=True)
class _Reply:
    """One outcome as the asker is told it: about this chat, or about a channel by its name."""

    here: str
    channel: str


_SUBSCRIBE_REPLIES = {
    SubscribeResult.SUBSCRIBED: _Reply(SUBSCRIBED, CHANNEL_SUBSCRIBED),
    SubscribeResult.ALREADY_SUBSCRIBED: _Reply(ALREADY_SUBSCRIBED, CHANNEL_ALREADY_SUBSCRIBED),
    SubscribeResult.RESUBSCRIBED: _Reply(RESUBSCRIBED, CHANNEL_RESUBSCRIBED),
}
_UNSUBSCRIBED = _Reply(UNSUBSCRIBED, CHANNEL_UNSUBSCRIBED)
_NOT_SUBSCRIBED = _Reply(NOT_SUBSCRIBED, CHANNEL_NOT_SUBSCRIBED)


async def subscribe(update: Update, context: BotContext) -> None:
    """/subscribe: this chat gets new articles (or, with @channel, the channel does)."""
    await _change_subscription(update, context, subscribe=True)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """/unsubscribe: this chat stops getting new articles (or, with @channel, the channel does)."""
    await _change_subscription(update, context, subscribe=False)


async def _change_subscription(update: Update, context: BotContext, *, subscribe: bool) -> None:
    """The one body of /subscribe and /unsubscribe; ``subscribe`` says which was sent."""
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    if chat.type == Chat.PRIVATE and context.args:
        await _channel_subscription(update, context, subscribe=subscribe)
        return
    if not await _may_change_subscription(update, context):
        await message.reply_text(GROUP_ADMINS_ONLY)
        return
    thread_id = topic_of(message)
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, chat)
        if thread_id is None:
            answer = (await _switch(session, chat.id, subscribe=subscribe)).here
        else:
            answer = await switch_topic(
                session,
                chat_id=chat.id,
                thread_id=thread_id,
                title=topic_title(message),
                subscribe=subscribe,
            )
    # Inside a topic the answer stays in that topic (reply_text keeps its thread).
    await message.reply_text(answer)


async def _switch(session: AsyncSession, chat_id: int, *, subscribe: bool) -> _Reply:
    """Opt the stored chat in or out; what to tell whoever asked."""
    if subscribe:
        return _SUBSCRIBE_REPLIES[await chats.subscribe_chat(session, chat_id=chat_id)]
    stopped = await chats.unsubscribe_chat(session, chat_id=chat_id)
    return _UNSUBSCRIBED if stopped else _NOT_SUBSCRIBED


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
        await remember_chat(session, channel)
        reply = await _switch(session, channel.id, subscribe=subscribe)
    await message.reply_text(reply.channel.format(name=name))
