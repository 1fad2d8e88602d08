"""`build_application`: the one place where every handler is wired, in order."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import publish_command_menus
from bot.context import BotApplication, BotContext, BotServices
from bot.handlers import errors, membership, start, subscription
from bot.ratelimit import SendLimiter, SendRates
from bot.settings import Settings
from storage import migrate
from storage.engine import Database

log = logging.getLogger(__name__)

# Commands are read from new messages and channel posts, never from edits of old ones.
_COMMAND_SOURCES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
# Updates handled at once; the HTTP pool must be larger so replies never wait for a connection.
CONCURRENT_UPDATES = 64


async def log_update(update: Update, context: BotContext) -> None:
    """One INFO line per update, before any handler runs."""
    del context
    chat = update.effective_chat
    user = update.effective_user
    kind = next((name for name in _UPDATE_KINDS if getattr(update, name) is not None), "other")
    log.info(
        "update %s: %s in chat %s from user %s",
        update.update_id,
        kind,
        chat.id if chat else "-",
        user.id if user else "-",
    )


_UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "my_chat_member",
    "chat_member",
)


async def on_startup(application: BotApplication) -> None:
    services = application.bot_data
    await migrate.upgrade(services.db)
    await publish_command_menus(application.bot, services.settings.admin_ids)
    log.info("bot @%s is ready", application.bot.username)


async def on_shutdown(application: BotApplication) -> None:
    await application.bot_data.db.dispose()


def build_application(settings: Settings, db: Database) -> BotApplication:
    context_types = ContextTypes(context=BotContext, bot_data=BotServices)
    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .context_types(context_types)
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONCURRENT_UPDATES * 2)
        .get_updates_connection_pool_size(2)
        .rate_limiter(SendLimiter(SendRates(per_second=settings.send_rate_per_second)))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data.settings = settings
    application.bot_data.db = db

    application.add_handler(TypeHandler(Update, log_update), group=-1)
    for handler in (
        CommandHandler("start", start.start, filters=_COMMAND_SOURCES),
        CommandHandler("help", start.help_command, filters=_COMMAND_SOURCES),
        CommandHandler("subscribe", subscription.subscribe, filters=_COMMAND_SOURCES),
        CommandHandler("unsubscribe", subscription.unsubscribe, filters=_COMMAND_SOURCES),
        ChatMemberHandler(membership.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, membership.group_migrated),
    ):
        application.add_handler(handler)
    application.add_error_handler(errors.report_error)
    return application
