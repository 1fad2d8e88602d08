"""`build_application`: the one place where every handler is wired, in order."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import cast

from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from bot.articles import handlers as articles
from bot.broadcasts import handlers as broadcasts
from bot.chats import membership, subscription
from bot.corrections import handlers as corrections
from bot.polls import admin as poll_admin
from bot.polls import votes
from bot.preferences import handlers as preferences
from bot.reports import engagement as reports
from bot.reports import reactions, stats
from bot.runtime import error_handler as errors
from bot.runtime.express import ExpressLane
from bot.runtime.middleware import UpdateHandler, middleware
from bot.schedule import handlers as schedule
from bot.schedule.when import AT_PATTERN
from bot.services import BotApplication, BotContext, BotServices, build_services
from bot.settings import Settings
from bot.sharing import handlers as sharing
from bot.start import handlers as start
from bot.telegram.bot import NewsBot
from bot.telegram.limiter import SendLimiter, SendRates
from bot.telegram.transport import AiohttpRequest
from storage import migrate
from storage.engine import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

# Commands are read from new messages and channel posts, never from edits of old ones.
_COMMAND_SOURCES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
# New group messages (not edits, not commands) that link somewhere, in the text or a caption.
_GROUP_LINKS = (
    filters.UpdateType.MESSAGE
    & filters.ChatType.GROUPS
    & ~filters.COMMAND
    & (
        filters.Entity("url")
        | filters.Entity("text_link")
        | filters.CaptionEntity("url")
        | filters.CaptionEntity("text_link")
    )
)
# Updates handled at once; the HTTP pool must be larger so replies never wait for a connection.
CONCURRENT_UPDATES = 256


async def on_startup(application: BotApplication) -> None:
    await migrate.prepare_schema(application.bot_data.db)
    await application.bot_data.start()
    settle_heap()
    log.info("bot @%s is ready", application.bot.username)


def settle_heap() -> None:
    """What start-up allocated lives as long as the process: full garbage collections, which
    otherwise pause a fan-out for a fifth of a second every second or two, skip it from now on."""
    gc.collect()
    gc.freeze()


async def on_shutdown(application: BotApplication) -> None:
    await application.bot_data.stop()


# The update kinds the handlers below take, and so the only ones asked of Telegram (polling and
# setWebhook): any other kind would be fetched only to be dropped. A test checks the list
# against the handlers (tests/bot/test_bot_update_kinds.py).
HANDLED_UPDATES = (
    "message",
    "channel_post",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "my_chat_member",
    # Reactions reach a bot only when it asks for them by name (and is admin in groups).
    "message_reaction",
    "message_reaction_count",
)


def build_application(
    settings: Settings, db: Database, *, clock: Callable[[], datetime] = utcnow
) -> BotApplication:
    """The bot with every handler and service; `clock` is the time digests and quiet hours are
    read by (the current time, unless a test moves it)."""
    limiter = SendLimiter(SendRates(per_second=settings.send_rate_per_second))
    bot = NewsBot(
        settings.bot_token.get_secret_value(),
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_file_url,
        request=AiohttpRequest(pool_size=CONCURRENT_UPDATES * 2),
        get_updates_request=AiohttpRequest(pool_size=2),
        rate_limiter=limiter,
    )
    services = build_services(settings, db, bot, limiter=limiter, clock=clock)
    # python-telegram-bot makes bot_data by calling the type it is given: here, one that hands
    # back the services just built.
    context_types = ContextTypes(
        context=BotContext, bot_data=cast("type[BotServices]", lambda: services)
    )
    application: BotApplication = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(context_types)
        .concurrent_updates(CONCURRENT_UPDATES)
        # Background work has its own loops: no JobQueue, even where APScheduler is installed.
        .job_queue(None)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    for group, handler in _handlers():
        application.add_handler(handler, group=group)
    application.add_error_handler(errors.report_error)
    # Taps and reactions fetched by polling skip python-telegram-bot's parsing and handlers.
    express = ExpressLane.for_application(application, concurrency=CONCURRENT_UPDATES)
    bot.hand_express_updates_to(express.take)
    return application


def _handlers() -> list[tuple[int, UpdateHandler]]:
    """Every handler as (group, handler), in the order python-telegram-bot asks them: groups
    from the lowest, and within a group the first handler that takes an update handles it."""
    handlers: list[UpdateHandler] = [
        CommandHandler("start", start.start, filters=_COMMAND_SOURCES),
        CommandHandler("help", start.help_command, filters=_COMMAND_SOURCES),
        CommandHandler("subscribe", subscription.subscribe, filters=_COMMAND_SOURCES),
        CommandHandler("unsubscribe", subscription.unsubscribe, filters=_COMMAND_SOURCES),
        CommandHandler("settings", preferences.settings, filters=_COMMAND_SOURCES),
        CommandHandler("timezone", preferences.timezone, filters=_COMMAND_SOURCES),
        CommandHandler("quiet", preferences.quiet, filters=_COMMAND_SOURCES),
        CallbackQueryHandler(preferences.settings_tap, pattern=preferences.is_settings_tap),
        # "/publish <address> at 18:00" is scheduled; without "at" it publishes now.
        CommandHandler(
            "publish",
            schedule.publish_later,
            filters=_COMMAND_SOURCES & filters.Regex(re.compile(AT_PATTERN, re.IGNORECASE)),
        ),
        CommandHandler("publish", articles.publish, filters=_COMMAND_SOURCES),
        CommandHandler("broadcast", broadcasts.broadcast, filters=_COMMAND_SOURCES),
        CommandHandler("cancel", broadcasts.cancel, filters=_COMMAND_SOURCES),
        CommandHandler("queue", schedule.queue, filters=_COMMAND_SOURCES),
        CommandHandler("stats", stats.show_stats, filters=_COMMAND_SOURCES),
        CommandHandler("report", reports.report, filters=_COMMAND_SOURCES),
        CommandHandler("export", reports.export, filters=_COMMAND_SOURCES),
        CallbackQueryHandler(broadcasts.decide, pattern=broadcasts.is_broadcast_decision),
        CommandHandler("update", corrections.update, filters=_COMMAND_SOURCES),
        CommandHandler("retract", corrections.retract, filters=_COMMAND_SOURCES),
        CallbackQueryHandler(corrections.decide, pattern=corrections.is_correction_decision),
        CallbackQueryHandler(schedule.cancel_scheduled, pattern=schedule.is_queue_cancel),
        CommandHandler("latest", articles.latest, filters=_COMMAND_SOURCES),
        ChatMemberHandler(membership.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        # Telegram reports a group's upgrade as a new message, never as an edit or a post.
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.StatusUpdate.MIGRATE, membership.group_migrated
        ),
        CommandHandler("closepoll", poll_admin.close_poll, filters=_COMMAND_SOURCES),
        CommandHandler("results", poll_admin.show_results, filters=_COMMAND_SOURCES),
        MessageReactionHandler(
            reactions.reaction_changed,
            message_reaction_types=MessageReactionHandler.MESSAGE_REACTION_UPDATED,
        ),
        MessageReactionHandler(
            reactions.reactions_counted,
            message_reaction_types=MessageReactionHandler.MESSAGE_REACTION_COUNT_UPDATED,
        ),
        CallbackQueryHandler(votes.vote, pattern=votes.VOTE_PATTERN),
        InlineQueryHandler(sharing.inline_query),
        ChosenInlineResultHandler(sharing.chosen_result),
        CommandHandler("share", sharing.share, filters=_COMMAND_SOURCES),
        CommandHandler("autocards", sharing.autocards_command, filters=_COMMAND_SOURCES),
        # After every command: a link in a group message (not in a command) may get a card.
        MessageHandler(_GROUP_LINKS, sharing.autocard_links),
        # Last: a button no handler above understands (forged, stale) gets a polite answer.
        CallbackQueryHandler(votes.unknown_button),
    ]
    # Every update passes the middleware's groups first: repeats stop there, the rest are logged.
    return [*middleware(HANDLED_UPDATES), *((0, handler) for handler in handlers)]
