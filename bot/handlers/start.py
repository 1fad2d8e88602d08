"""/start (with deep-link payloads) and /help."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.deeplinks import ArticleLink, parse_payload
from bot.handlers.articles import show_article
from bot.records import remember_chat, remember_user

WELCOME = (
    "👋 <b>Welcome!</b>\n"
    "I bring this newsroom's stories to Telegram: short article cards with a "
    '"Did you know?" fact and a reader poll you can vote in.\n\n'
    "Send /subscribe to get new articles here, /help for everything I can do."
)
UNKNOWN_LINK = "That link is not one I know. Here is what I can do:"

READER_HELP = (
    "<b>What I can do</b>\n"
    "/latest — the newest article\n"
    "/subscribe — get new articles in this chat\n"
    "/unsubscribe — stop getting articles here\n"
    "/help — this message\n\n"
    "In groups, only the group's admins can subscribe or unsubscribe it."
)


async def start(update: Update, context: BotContext) -> None:
    if (message := update.effective_message) is None or update.effective_chat is None:
        return
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, update.effective_chat)
    if context.args:
        link = parse_payload(context.args[0])
        if isinstance(link, ArticleLink):
            await show_article(update, context, link.article_id)
            return
        await message.reply_text(f"{UNKNOWN_LINK}\n\n{READER_HELP}", parse_mode=ParseMode.HTML)
        return
    await message.reply_text(WELCOME, parse_mode=ParseMode.HTML)


async def help_command(update: Update, context: BotContext) -> None:
    del context
    if (message := update.effective_message) is None:
        return
    await message.reply_text(READER_HELP, parse_mode=ParseMode.HTML)
