"""`build_application`: the one place where every handler is wired, in order."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.articles import handlers as articles
from bot.articles.feeds import FeedWatcher
from bot.articles.publishing import fetch_client
from bot.articles.sender import ArticleSender
from bot.broadcasts import handlers as broadcasts
from bot.broadcasts.progress import BroadcastMonitor
from bot.broadcasts.sender import BroadcastSender
from bot.chats import membership, subscription
from bot.delivery.engine import DeliveryEngine
from bot.polls import admin as poll_admin
from bot.polls import votes
from bot.polls.book import PollBook
from bot.polls.closer import PollCloser
from bot.polls.content import PollContent
from bot.polls.live_totals import LiveTotals
from bot.polls.tap_limit import TapLimiter
from bot.polls.writer import VoteWriter
from bot.reports import stats
from bot.runtime import error_handler as errors
from bot.runtime.niceties import Niceties
from bot.runtime.update_ledger import UpdateLedger, skip_repeats
from bot.runtime.workers import LeaderJob, Workers
from bot.schedule import handlers as schedule
from bot.schedule.scheduler import Scheduler
from bot.schedule.when import AT_PATTERN
from bot.services import BotApplication, BotContext, BotServices
from bot.settings import Settings
from bot.sharing import handlers as sharing
from bot.sharing.link_reads import LinkReads, ReadLimits
from bot.start import handlers as start
from bot.start.menus import command_menus
from bot.telegram.bot import NewsBot
from bot.telegram.limiter import SendLimiter, SendRates
from bot.telegram.transport import AiohttpRequest
from storage import migrate
from storage.engine import Database
from storage.models import DeliveryKind

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


async def log_update(update: Update, context: BotContext) -> None:
    """One INFO line per update, before any handler runs."""
    del context
    chat = update.effective_chat
    user = update.effective_user
    kind = next((name for name in HANDLED_UPDATES if getattr(update, name) is not None), "other")
    log.info(
        "update %s: %s in chat %s from user %s",
        update.update_id,
        kind,
        chat.id if chat else "-",
        user.id if user else "-",
    )


async def on_startup(application: BotApplication) -> None:
    services = application.bot_data
    await migrate.prepare_schema(services.db)
    # Menus are niceties: set in the background, retried there, never a reason not to start.
    services.niceties.start(application.bot)
    await services.updates_seen.start()
    await services.votes.start()
    services.http = fetch_client(services.settings)
    services.feeds = FeedWatcher(
        settings=services.settings,
        db=services.db,
        client=services.http,
        on_published=lambda: services.delivery.wake(),  # noqa: PLW0108 - looked up when called
    )
    services.workers.lead(_leader_jobs(application))
    await services.workers.start()
    # Rows another live worker is sending are not ours to release (bot/runtime/workers.py sweeps).
    await services.delivery.start(application.bot, keep_live_claims=True)
    settle_heap()
    log.info("bot @%s is ready", application.bot.username)


def settle_heap() -> None:
    """What start-up allocated lives as long as the process: full garbage collections, which
    otherwise pause a fan-out for a fifth of a second every second or two, skip it from now on."""
    gc.collect()
    gc.freeze()


def _leader_jobs(application: BotApplication) -> list[LeaderJob]:
    """The jobs that must run in one process only: the leader's (see bot/runtime/workers.py)."""
    services, bot = application.bot_data, application.bot

    async def start_feeds() -> None:
        services.feeds.start()

    return [
        LeaderJob("live totals", services.live_totals.start, services.live_totals.stop),
        LeaderJob("poll closer", services.poll_closer.start, services.poll_closer.stop),
        LeaderJob("feeds", start_feeds, services.feeds.stop),
        LeaderJob(
            "broadcast monitor",
            lambda: services.broadcast_monitor.start(bot),
            services.broadcast_monitor.stop,
        ),
        LeaderJob("scheduler", lambda: services.scheduler.start(bot), services.scheduler.stop),
    ]


async def on_shutdown(application: BotApplication) -> None:
    services = application.bot_data
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        # Stops the leader's jobs and hands the leases over; their stops below are then no-ops.
        ("workers", services.workers.stop),
        ("niceties", services.niceties.stop),
    ]
    # A start that failed half-way may not have opened these; feeds stop before the engine.
    if hasattr(services, "feeds"):
        steps.append(("feeds", services.feeds.stop))
    if hasattr(services, "http"):
        steps.append(("fetch client", services.http.aclose))
    steps += [
        ("scheduler", services.scheduler.stop),
        ("broadcast monitor", services.broadcast_monitor.stop),
        ("delivery", services.delivery.stop),
        ("poll closer", services.poll_closer.stop),
        ("live totals", services.live_totals.stop),
        ("votes", services.votes.stop),
        ("update ledger", services.updates_seen.stop),
        ("database", services.db.dispose),
    ]
    # Every step runs even when one before it fails, so no session or connection is left open.
    for name, stop in steps:
        try:
            await stop()
        except Exception:
            log.exception("shutdown: stopping the %s failed", name)


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
)


def build_application(settings: Settings, db: Database) -> BotApplication:
    context_types = ContextTypes(context=BotContext, bot_data=BotServices)
    limiter = SendLimiter(SendRates(per_second=settings.send_rate_per_second))
    application: BotApplication = (
        ApplicationBuilder()
        .bot(
            NewsBot(
                settings.bot_token.get_secret_value(),
                base_url=settings.telegram_base_url,
                base_file_url=settings.telegram_file_url,
                request=AiohttpRequest(pool_size=CONCURRENT_UPDATES * 2),
                get_updates_request=AiohttpRequest(pool_size=2),
                rate_limiter=limiter,
            )
        )
        .context_types(context_types)
        .concurrent_updates(CONCURRENT_UPDATES)
        # Background work has its own loops: no JobQueue, even where APScheduler is installed.
        .job_queue(None)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data.settings = settings
    application.bot_data.db = db
    application.bot_data.niceties = Niceties(command_menus(settings.admin_ids))
    application.bot_data.delivery = DeliveryEngine(db)
    application.bot_data.delivery.register(
        DeliveryKind.BROADCAST, BroadcastSender(db, paid=settings.allow_paid_broadcast)
    )
    application.bot_data.delivery.register(
        DeliveryKind.ARTICLE, ArticleSender(db, paid=settings.allow_paid_broadcast)
    )
    application.bot_data.broadcast_monitor = BroadcastMonitor(db)
    application.bot_data.scheduler = Scheduler(
        db=db,
        settings=settings,
        http=lambda: getattr(application.bot_data, "http", None),
        on_queued=application.bot_data.wake_delivery,
    )
    application.bot_data.polls = PollBook(db)
    application.bot_data.link_reads = LinkReads(
        ReadLimits(
            per_reader=settings.autocard_reads_per_reader,
            per_group=settings.autocard_reads_per_group,
            window=settings.autocard_reads_window,
            at_once=settings.autocard_reads_at_once,
            retry_after=settings.autocard_retry_after,
        )
    )
    application.bot_data.updates_seen = UpdateLedger(db)
    application.bot_data.tap_limiter = TapLimiter(
        limit=settings.tap_limit, window=settings.tap_window
    )
    application.bot_data.votes = VoteWriter(
        db, application.bot_data.polls, double_tap_window=settings.poll_double_tap_window
    )
    application.bot_data.live_totals = LiveTotals(
        db=db,
        bot=application.bot,
        book=application.bot_data.polls,
        content=PollContent(db),
        interval=settings.poll_edit_interval,
    )
    application.bot_data.workers = Workers(
        db,
        limiter=limiter,
        book=application.bot_data.polls,
        live_totals=application.bot_data.live_totals,
    )
    application.bot_data.delivery.may_claim = application.bot_data.workers.may_claim_deliveries
    application.bot_data.delivery.claimer = application.bot_data.workers.worker_id
    application.bot_data.poll_closer = PollCloser(
        db=db, book=application.bot_data.polls, live_totals=application.bot_data.live_totals
    )

    # First of all: an update delivered a second time stops here.
    application.add_handler(TypeHandler(Update, skip_repeats), group=-2)
    application.add_handler(TypeHandler(Update, log_update), group=-1)
    for handler in (
        CommandHandler("start", start.start, filters=_COMMAND_SOURCES),
        CommandHandler("help", start.help_command, filters=_COMMAND_SOURCES),
        CommandHandler("subscribe", subscription.subscribe, filters=_COMMAND_SOURCES),
        CommandHandler("unsubscribe", subscription.unsubscribe, filters=_COMMAND_SOURCES),
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
        CallbackQueryHandler(broadcasts.decide, pattern=broadcasts.is_broadcast_decision),
        CallbackQueryHandler(schedule.cancel_scheduled, pattern=schedule.is_queue_cancel),
        CommandHandler("latest", articles.latest, filters=_COMMAND_SOURCES),
        ChatMemberHandler(membership.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        # Telegram reports a group's upgrade as a new message, never as an edit or a post.
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.StatusUpdate.MIGRATE, membership.group_migrated
        ),
        CommandHandler("closepoll", poll_admin.close_poll, filters=_COMMAND_SOURCES),
        CommandHandler("results", poll_admin.show_results, filters=_COMMAND_SOURCES),
        CallbackQueryHandler(votes.vote, pattern=votes.VOTE_PATTERN),
        InlineQueryHandler(sharing.inline_query),
        ChosenInlineResultHandler(sharing.chosen_result),
        CommandHandler("share", sharing.share, filters=_COMMAND_SOURCES),
        CommandHandler("autocards", sharing.autocards_command, filters=_COMMAND_SOURCES),
        # After every command: a link in a group message (not in a command) may get a card.
        MessageHandler(_GROUP_LINKS, sharing.autocard_links),
    ):
        application.add_handler(handler)
    # Last: a button no handler above understands (forged, stale) gets a polite answer.
    application.add_handler(CallbackQueryHandler(votes.unknown_button))
    application.add_error_handler(errors.report_error)
    return application
