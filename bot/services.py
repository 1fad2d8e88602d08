"""The typed context handlers receive: the application's services instead of string keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext

from bot.settings import Settings
from bot.telegram.bot import NewsBot
from newsroom.web_client import WebClient
from storage.engine import Database

if TYPE_CHECKING:
    from bot.articles.feeds import FeedWatcher
    from bot.broadcasts.progress import BroadcastMonitor
    from bot.delivery.engine import DeliveryEngine
    from bot.polls.book import PollBook
    from bot.polls.closer import PollCloser
    from bot.polls.live_totals import LiveTotals
    from bot.polls.tap_limit import TapLimiter
    from bot.polls.writer import VoteWriter
    from bot.runtime.niceties import Niceties
    from bot.runtime.update_ledger import UpdateLedger
    from bot.runtime.workers import Workers
    from bot.schedule.scheduler import Scheduler
    from bot.sharing.link_reads import LinkReads


class BotServices:
    """What every handler needs; set once by `build_application`, shared for the app's life."""

    settings: Settings
    db: Database
    # Polls: in-memory counts, the single vote writer, live edits and the closing job.
    polls: PollBook
    votes: VoteWriter
    live_totals: LiveTotals
    poll_closer: PollCloser
    # Readers hammering a poll's buttons are told to slow down.
    tap_limiter: TapLimiter
    # Command menus and other niceties, set in the background at start and retried there.
    niceties: Niceties
    # Update ids already taken on: an update delivered twice is handled once.
    updates_seen: UpdateLedger
    # Pages and feeds are fetched with this client, opened on startup and closed on shutdown.
    http: WebClient
    feeds: FeedWatcher
    # Autocard links read within bounds: remembered answers, per-reader and per-group limits.
    link_reads: LinkReads
    # Delivery: the engine sending every queued article and broadcast, the admin's broadcast
    # progress messages, and the scheduled actions.
    delivery: DeliveryEngine
    broadcast_monitor: BroadcastMonitor
    scheduler: Scheduler
    # Several processes on one database: heartbeats, the leader's jobs, each one's send share.
    workers: Workers

    def wake_delivery(self) -> None:
        """New rows were queued: the engine sends them and broadcast progress is shown now."""
        self.delivery.wake()
        self.broadcast_monitor.wake()


class BotContext(CallbackContext[NewsBot, dict[Any, Any], dict[Any, Any], BotServices]):
    @property
    def services(self) -> BotServices:
        return self.bot_data


BotApplication = Application[NewsBot, BotContext, dict[Any, Any], dict[Any, Any], BotServices, Any]
