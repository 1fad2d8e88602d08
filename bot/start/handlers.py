"""/start (with deep-link payloads) and /help."""

from __future__ import annotations

from html import escape

from telegram import BotCommand, Chat, Update
from telegram.constants import ParseMode

from bot.articles.handlers import show_article
from bot.services import BotContext
from bot.start.menus import ADMIN_COMMANDS, READER_COMMANDS
from bot.telegram.deeplinks import ArticleLink, parse_payload
from bot.telegram.records import chat_kind, remember_chat, remember_user
from storage import engagement
from storage.models import ArticleEventKind

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
    "/settings — the sections you follow, instant or a daily or weekly digest, quiet hours "
    "and your time zone\n"
    "/timezone Europe/Berlin — the time zone digests and quiet hours follow\n"
    "/quiet 22:30-07:00 — no new articles then (they wait until the end); /quiet off\n"
    "/autocards on|off — in a group: our article links posted there get their card\n"
    "/help — this message\n\n"
    "In groups, only the group's admins can subscribe or unsubscribe it, change its settings, "
    "or switch autocards. For a channel you run, send /settings @channel here."
)


def _help_line(command: BotCommand) -> str:
    described = command.description[:1].lower() + command.description[1:]
    return f"/{command.command} — {escape(described, quote=False)}"


def _admin_lines() -> str:
    # The admin menu's own words, so /help and the menu Telegram shows never disagree.
    return "\n".join(
        _help_line(command) for command in ADMIN_COMMANDS if command not in READER_COMMANDS
    )


ADMIN_HELP = (
    f"{READER_HELP}\n\n"
    "<b>For admins</b>\n"
    f"{_admin_lines()}\n\n"
    "Add at 18:00 (or at 2026-12-01 09:00) to /publish or /broadcast to do it later. "
    "Admin commands sent in a group or channel are answered here, never in the group."
)


async def start(update: Update, context: BotContext) -> None:
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    link = parse_payload(context.args[0]) if context.args else None
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, chat)
        if isinstance(link, ArticleLink):
            # An open of the article by deep link (an unknown id is not counted).
            await engagement.record_event(
                session,
                article_id=link.article_id,
                kind=ArticleEventKind.OPEN,
                chat_kind=chat_kind(chat),
            )
    if context.args:
        if isinstance(link, ArticleLink):
            await show_article(update, context, link.article_id)
            return
        await message.reply_text(f"{UNKNOWN_LINK}\n\n{READER_HELP}", parse_mode=ParseMode.HTML)
        return
    await message.reply_text(WELCOME, parse_mode=ParseMode.HTML)


async def help_command(update: Update, context: BotContext) -> None:
    """The reader commands; in an admin's private chat, the admin commands too."""
    if (message := update.effective_message) is None:
        return
    user = update.effective_user
    admin = message.chat.type == Chat.PRIVATE and context.services.settings.is_admin(
        user.id if user else None
    )
    await message.reply_text(ADMIN_HELP if admin else READER_HELP, parse_mode=ParseMode.HTML)
