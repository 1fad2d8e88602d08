"""The feed job: every FEED_INTERVAL seconds, poll each feed in FEEDS and publish its new items.

Feeds are fetched conditionally (ETag / Last-Modified). An item is new when its key (guid, else
canonical address) was never recorded; its key is recorded in the transaction that publishes
it, so it goes out once across restarts and edits of the feed. A feed's back catalogue is not
pushed: items dated before the bot first saw the feed, and undated items listed by the first
successful poll, are recorded as seen without being published. A failing feed or item is one
log line and never stops the others; a failed item keeps the old validators so a later poll
reads the feed again and retries it: after 1, 2, 4, 8 polls, `ITEM_RETRIES.tries` tries in
all, after which it is recorded as seen without an article (given up, with a warning).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.articles.publishing import FeedOrigin, publish_draft, read_feed_item
from bot.runtime.background import BackgroundLoop
from bot.runtime.backoff import Backoff
from bot.settings import Settings
from newsroom.errors import IngestError
from newsroom.feeds import FeedItem, fetch_feed
from newsroom.web_client import WebClient
from storage import feeds
from storage.engine import Database
from storage.feeds import FeedState

log = logging.getLogger(__name__)

# Waits counted in polls (each FEED_INTERVAL apart) before a failed item is read again.
ITEM_RETRIES = Backoff(first=1, longest=8, tries=5)


@dataclass
class FeedReport:
    """What one poll of one feed did."""

    url: str
    not_modified: bool = False
    published: list[int] = field(default_factory=list)
    back_catalogue: int = 0
    failed_items: int = 0
    given_up: int = 0
    error: str | None = None


@dataclass
class _ItemTries:
    """A feed item that failed: how often in a row, and the poll it may be read again at."""

    failures: int = 0
    next_poll: int = 0


def is_back_catalogue(item: FeedItem, state: FeedState) -> bool:
    """Whether the item predates the bot's first look at the feed (so it is not pushed)."""
    if item.published_at is not None:
        return item.published_at <= state.first_seen_at
    return state.first_poll


class FeedWatcher(BackgroundLoop):
    """Polls the configured feeds in the background; `poll_now` runs one round at once."""

    name = "feed-watcher"

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        client: WebClient,
        on_published: Callable[[], None],
    ) -> None:
        super().__init__(idle_seconds=settings.feed_interval)
        self._settings = settings
        self._db = db
        self._client = client
        self._on_published = on_published
        # Rounds never overlap: a manual round waits for the scheduled one and vice versa.
        self._polling = asyncio.Lock()
        self._polls = 0
        self._failed_items: dict[str, _ItemTries] = {}

    @property
    def feeds(self) -> tuple[str, ...]:
        return self._settings.feeds

    async def start(self) -> None:
        """Start polling (at once, then every FEED_INTERVAL seconds); nothing to do without
        feeds."""
        if self.feeds:
            await super().start()

    async def _round(self) -> float:
        await self.poll_now()
        return self._settings.feed_interval

    async def poll_now(self) -> list[FeedReport]:
        """Poll every feed once, one after the other; one feed's failure never stops the rest."""
        async with self._polling:
            self._polls += 1
            reports = []
            for url in self.feeds:
                try:
                    reports.append(await self.poll_feed(url))
                except Exception:
                    # A bug, not a bad feed: keep the traceback, and go on with the other feeds.
                    log.exception("feed %s: poll failed unexpectedly", url)
                    reports.append(FeedReport(url, error="unexpected failure"))
            return reports

    async def poll_feed(self, url: str) -> FeedReport:
        report = FeedReport(url)
        async with self._db.transaction() as session:
            state = await feeds.feed_state(session, url=url)
        try:
            fetched = await fetch_feed(
                self._client,
                url,
                state.etag,
                state.last_modified,
                max_bytes=self._settings.fetch_max_bytes,
                timeout=self._settings.fetch_timeout,
            )
        except IngestError as error:
            report.error = str(error).removeprefix(f"{url}: ")
            log.warning("feed %s: %s", url, report.error)
            async with self._db.transaction() as session:
                await feeds.record_feed_error(session, url=url, error=report.error)
            return report
        report.not_modified = fetched.not_modified
        if not fetched.not_modified:
            await self._take_new_items(fetched.items, state, report)
        # After a failed item the old validators stay, so the next poll reads the feed again.
        keep_old = report.failed_items > 0
        async with self._db.transaction() as session:
            await feeds.record_feed_success(
                session,
                url=url,
                etag=state.etag if keep_old else fetched.etag,
                last_modified=state.last_modified if keep_old else fetched.modified,
            )
        if report.published:
            log.info("feed %s: published articles %s", url, report.published)
        return report

    async def _take_new_items(
        self, items: tuple[FeedItem, ...], state: FeedState, report: FeedReport
    ) -> None:
        async with self._db.transaction() as session:
            seen = await feeds.seen_keys(session, keys=[item.key for item in items])
        # Feeds list the newest first; readers get them in the order they were written.
        for item in reversed(items):
            if item.key in seen:
                continue
            if (tries := self._failed_items.get(item.key)) and tries.next_poll > self._polls:
                # Not yet: it counts as failed, so the feed is read in full next time too.
                report.failed_items += 1
                continue
            if is_back_catalogue(item, state):
                async with self._db.transaction() as session:
                    await feeds.mark_seen(
                        session, key=item.key, feed_url=state.url, article_id=None
                    )
                report.back_catalogue += 1
                continue
            try:
                draft = await read_feed_item(item, settings=self._settings, client=self._client)
            except IngestError as error:
                await self._item_failed(item, state, error, report)
                continue
            self._failed_items.pop(item.key, None)
            result = await publish_draft(
                self._db, draft, origin=FeedOrigin(key=item.key, feed_url=state.url)
            )
            if not result.already_published:
                report.published.append(result.article_id)
                self._on_published()

    async def _item_failed(
        self, item: FeedItem, state: FeedState, error: IngestError, report: FeedReport
    ) -> None:
        """Read again at a later poll, further off each time; given up after the last try."""
        tries = self._failed_items.setdefault(item.key, _ItemTries())
        tries.failures += 1
        if ITEM_RETRIES.gives_up(tries.failures):
            del self._failed_items[item.key]
            log.warning(
                "feed %s: item %s given up after %d tries: %s",
                state.url,
                item.key,
                tries.failures,
                error,
            )
            async with self._db.transaction() as session:
                await feeds.mark_seen(session, key=item.key, feed_url=state.url, article_id=None)
            report.given_up += 1
            return
        if tries.failures == 1:
            log.warning(
                "feed %s: item %s skipped: %s; tried again at later polls, %d tries at most",
                state.url,
                item.key,
                error,
                ITEM_RETRIES.tries,
            )
        tries.next_poll = self._polls + int(ITEM_RETRIES.wait(tries.failures))
        report.failed_items += 1
