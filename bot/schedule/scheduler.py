"""Runs scheduled actions when they are due: publish an article, or start a broadcast.

The actions live in the database (`storage.schedule`), so a restart loses none; one that came
due while the bot was down runs at start. Each runs, then is marked done (or failed, with the
reason) and the admin who scheduled it is told. Running twice after a crash is harmless:
publishing skips an article already published, and a broadcast starts only once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from telegram import Bot
from telegram.error import TelegramError

from bot.articles.publishing import describe, describe_failure, publish_source
from bot.runtime.background import MIN_SLEEP_SECONDS, BackgroundLoop
from bot.settings import Settings
from newsroom.errors import IngestError
from newsroom.web_client import WebClient
from storage import broadcasts, schedule
from storage.engine import Database
from storage.models import ScheduledAction, ScheduledKind

log = logging.getLogger(__name__)

# Longest sleep between looks at the table (an action added meanwhile also wakes the loop).
MAX_SLEEP_SECONDS = 30.0


class Scheduler(BackgroundLoop):
    """Executes due scheduled actions; `wake()` after scheduling one."""

    name = "scheduler"

    def __init__(
        self,
        *,
        db: Database,
        bot: Bot,
        settings: Settings,
        http: WebClient,
        on_queued: Callable[[], None],
    ) -> None:
        super().__init__(idle_seconds=MAX_SLEEP_SECONDS)
        self._db = db
        self._bot = bot
        self._settings = settings
        self._http = http
        self._on_queued = on_queued

    async def _round(self) -> float:
        await self.run_due()
        async with self._db.transaction() as session:
            next_due = await schedule.next_due_at(session)
        if next_due is None:
            return MAX_SLEEP_SECONDS
        until_due = (next_due - datetime.now(UTC)).total_seconds()
        return max(MIN_SLEEP_SECONDS, min(MAX_SLEEP_SECONDS, until_due))

    async def run_due(self) -> int:
        """Run every action whose time has come; how many ran."""
        async with self._db.transaction() as session:
            due = await schedule.due_actions(session, now=datetime.now(UTC))
        for action in due:
            await self._execute(action)
        return len(due)

    async def _execute(self, action: ScheduledAction) -> None:
        error: str | None = None
        try:
            if action.kind is ScheduledKind.PUBLISH:
                report = await self._publish(action)
            else:
                report = await self._start_broadcast(action)
        except IngestError as failure:
            error, report = str(failure), describe_failure(failure)
        except Exception as failure:
            log.exception("scheduled action %s failed", action.id)
            error, report = repr(failure), f"Scheduled action #{action.id} failed: {failure}"
        async with self._db.transaction() as session:
            await schedule.finish_action(session, action_id=action.id or 0, error=error)
        if report:
            try:
                await self._bot.send_message(action.chat_id, report)
            except TelegramError as failure:
                log.warning("could not report scheduled action %s: %s", action.id, failure)

    async def _publish(self, action: ScheduledAction) -> str:
        if action.url is None:
            raise ValueError("a scheduled publish without an address")
        result = await publish_source(
            self._db,
            action.url,
            settings=self._settings,
            client=self._http,
            published_by=action.author_id,
        )
        if result.queued:
            self._on_queued()
        return describe(result, zone=self._settings.zone)

    async def _start_broadcast(self, action: ScheduledAction) -> str:
        if action.broadcast_id is None:
            raise ValueError("a scheduled broadcast without its broadcast")
        async with self._db.transaction() as session:
            queued = await broadcasts.start_broadcast(
                session, broadcast_id=action.broadcast_id, report_chat_id=action.chat_id
            )
        if queued is None:
            return ""
        self._on_queued()
        # The progress message that follows is the report.
        return ""
