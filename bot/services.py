"""The application's services, built once up front, and the typed context handlers receive.

`build_services` makes every service complete before the bot starts (the fetch client, the
feed watcher, the delivery engine and the rest), so none is missing at any moment of the bot's
life; `BotServices.start` and `BotServices.stop` run them in order. Handlers reach them as
`context.services` instead of string keys.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.articles.feeds import FeedWatcher
from bot.articles.links import ArticleLinks
from bot.articles.publishing import fetch_client
from bot.articles.sender import ArticleSender
from bot.broadcasts.progress import BroadcastMonitor
from bot.broadcasts.sender import BroadcastSender
from bot.corrections.editor import CopyEditor
from bot.corrections.progress import CorrectionProgress
from bot.corrections.runner import CorrectionRunner
from bot.delivery.engine import DeliveryEngine
from bot.digests.job import DigestJob
from bot.digests.sender import DigestSender
from bot.polls.book import PollBook
from bot.polls.closer import PollCloser
from bot.polls.content import PollContent
from bot.polls.final_results import FinalResults
from bot.polls.live_totals import LiveTotals
from bot.polls.tap_limit import TapLimiter
from bot.polls.writer import VoteWriter
from bot.reports.reaction_writer import ReactionWriter
from bot.runtime.niceties import Niceties
from bot.runtime.update_ledger import UpdateLedger, UpdateRecords
from bot.runtime.workers import LeaderJob, Workers
from bot.schedule.scheduler import Scheduler
from bot.settings import Settings
from bot.sharing.link_reads import LinkReads, ReadLimits
from bot.start.menus import command_menus
from bot.telegram.bot import NewsBot
from bot.telegram.limiter import SendLimiter
from newsroom.web_client import WebClient
from storage.engine import Database
from storage.models import DeliveryKind
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(eq=False, kw_only=True)
class BotServices:
    """What every handler needs; built once by `build_services`, shared for the app's life."""

    settings: Settings
    db: Database
    # Polls: in-memory counts, the single vote writer, live edits and the closing job.
    polls: PollBook
    votes: VoteWriter
    live_totals: LiveTotals
    poll_closer: PollCloser
    # A closed poll's final results chart, to the admins and the channel copies.
    final_results: FinalResults
    # Readers hammering a poll's buttons are told to slow down.
    tap_limiter: TapLimiter
    # Command menus and other niceties, set in the background at start and retried there.
    niceties: Niceties
    # Update ids already taken on: an update delivered twice is handled once.
    updates_seen: UpdateLedger
    # Pages and feeds are fetched with this client; it is closed on shutdown.
    http: WebClient
    feeds: FeedWatcher
    # Autocard links read within bounds: remembered answers, per-reader and per-group limits.
    link_reads: LinkReads
    # Reaction updates stored in batches, in the order Telegram sent them.
    reactions: ReactionWriter
    # Delivery: the engine sending every queued article and broadcast, the admin's broadcast
    # progress messages, and the scheduled actions.
    delivery: DeliveryEngine
    broadcast_monitor: BroadcastMonitor
    scheduler: Scheduler
    # Daily and weekly digests, made when each chat's local digest time has come.
    digests: DigestJob
    # New rows were queued: the engine sends them and broadcast progress is shown now.
    wake_delivery: Callable[[], None]
    # Several processes on one database: heartbeats, the leader's jobs, each one's send share.
    workers: Workers
    # Corrections and retractions carried to every copy of an article (a leader job).
    corrections: CorrectionRunner

    async def start(self) -> None:
        """Start the background services, in order; the workers start the leader's jobs."""
        # Menus are niceties: set in the background, retried there, never a reason not to start.
        await self.niceties.start()
        await self.updates_seen.start()
        await self.votes.start()
        await self.reactions.start()
        await self.workers.start()
        await self.delivery.start()

    async def stop(self) -> None:
        """Stop everything, in order; every step runs even when one before it fails, so no
        session or connection is left open."""
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            # Stops the leader's jobs and hands the leases over; their stops below are then no-ops.
            ("workers", self.workers.stop),
            ("niceties", self.niceties.stop),
            # Feeds stop before the engine, and before the client they fetch with is closed.
            ("feeds", self.feeds.stop),
            ("fetch client", self.http.aclose),
            ("scheduler", self.scheduler.stop),
            ("digests", self.digests.stop),
            ("broadcast monitor", self.broadcast_monitor.stop),
            ("delivery", self.delivery.stop),
            ("poll closer", self.poll_closer.stop),
            ("corrections", self.corrections.stop),
            ("live totals", self.live_totals.stop),
            ("votes", self.votes.stop),
            ("reactions", self.reactions.stop),
            ("update ledger", self.updates_seen.stop),
            ("database", self.db.dispose),
        ]
        for name, stop in steps:
            try:
                await stop()
            except Exception:
                log.exception("shutdown: stopping the %s failed", name)


def build_services(
    settings: Settings,
    db: Database,
    bot: NewsBot,
    *,
    limiter: SendLimiter,
    clock: Callable[[], datetime] = utcnow,
) -> BotServices:
    """Every service, complete: the bot each one sends with and the limiter the bot paces by;
    `clock` is the time digests and quiet hours are read by (tests move it)."""
    paid = settings.allow_paid_broadcast
    # Opening the client costs nothing until a page or feed is fetched with it.
    http = fetch_client(settings)
    book = PollBook(db)
    links = ArticleLinks.from_settings(settings)
    # Live totals render every poll message with it; corrections render poll copies the same way.
    poll_content = PollContent(db, links=links)
    live_totals = LiveTotals(
        db=db,
        bot=bot,
        book=book,
        content=poll_content,
        interval=settings.poll_edit_interval,
    )
    workers = Workers(db, limiter=limiter, book=book, live_totals=live_totals)
    delivery = DeliveryEngine(
        db,
        bot,
        may_claim=workers.may_claim_deliveries,
        claimer=workers.worker_id,
        # Rows another live worker is sending are not ours to release (the workers sweep them).
        keep_live_claims=True,
        zone=settings.zone,
        clock=clock,
    )
    delivery.register(DeliveryKind.BROADCAST, BroadcastSender(db, paid=paid))
    article_sender = ArticleSender(db, paid=paid, links=links)
    delivery.register(DeliveryKind.ARTICLE, article_sender)
    delivery.register(DeliveryKind.DIGEST, DigestSender(db, paid=paid))
    broadcast_monitor = BroadcastMonitor(db, bot)
    final_results = FinalResults(db=db, bot=bot, admin_ids=settings.admin_ids)

    def wake_delivery() -> None:
        delivery.wake()
        broadcast_monitor.wake()

    # Taps and reactions record their updates with them; the ledger records the others.
    records = UpdateRecords()
    services = BotServices(
        settings=settings,
        db=db,
        polls=book,
        votes=VoteWriter(
            db, book, double_tap_window=settings.poll_double_tap_window, records=records
        ),
        live_totals=live_totals,
        poll_closer=PollCloser(
            db=db, book=book, live_totals=live_totals, final_results=final_results
        ),
        final_results=final_results,
        tap_limiter=TapLimiter(limit=settings.tap_limit, window=settings.tap_window),
        niceties=Niceties(bot, command_menus(settings.admin_ids)),
        updates_seen=UpdateLedger(db, records),
        http=http,
        feeds=FeedWatcher(settings=settings, db=db, client=http, on_published=delivery.wake),
        reactions=ReactionWriter(db, records=records),
        link_reads=LinkReads(
            ReadLimits(
                per_reader=settings.autocard_reads_per_reader,
                per_group=settings.autocard_reads_per_group,
                window=settings.autocard_reads_window,
                at_once=settings.autocard_reads_at_once,
                retry_after=settings.autocard_retry_after,
            )
        ),
        delivery=delivery,
        broadcast_monitor=broadcast_monitor,
        scheduler=Scheduler(db=db, bot=bot, settings=settings, http=http, on_queued=wake_delivery),
        digests=DigestJob(db=db, zone=settings.zone, on_queued=delivery.wake, clock=clock),
        wake_delivery=wake_delivery,
        workers=workers,
        corrections=CorrectionRunner(
            db,
            editor=CopyEditor(
                db,
                bot,
                book=book,
                content=poll_content,
                live_totals=live_totals,
                limiter=limiter,
                links=links,
            ),
            progress=CorrectionProgress(db, bot),
            book=book,
            content=poll_content,
            live_totals=live_totals,
            cards=article_sender,
            claimer=workers.worker_id,
        ),
    )
    # The jobs that must run in one process only: the leader's (see bot/runtime/workers.py).
    leader_jobs = (
        ("live totals", services.live_totals),
        ("corrections", services.corrections),
        ("poll closer", services.poll_closer),
        ("feeds", services.feeds),
        ("broadcast monitor", services.broadcast_monitor),
        ("scheduler", services.scheduler),
        ("digests", services.digests),
    )
    workers.lead([LeaderJob(name, job.start, job.stop) for name, job in leader_jobs])
    return services


class BotContext(CallbackContext[NewsBot, dict[Any, Any], dict[Any, Any], BotServices]):
    @property
    def services(self) -> BotServices:
        return self.bot_data


BotApplication = Application[NewsBot, BotContext, dict[Any, Any], dict[Any, Any], BotServices, Any]
