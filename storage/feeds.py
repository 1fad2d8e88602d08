"""Queries about polled feeds: their validators and errors, and the items already dealt with.

Every function takes the caller's session and never commits. An item's key (guid, else canonical
address) is unique across all feeds, so an article listed by two feeds goes out once.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Feed, FeedItemSeen
from storage.types import utcnow


@dataclass(frozen=True)
class FeedState:
    """What earlier polls of a feed left behind."""

    url: str
    etag: str | None
    last_modified: str | None
    first_seen_at: datetime
    # No poll has succeeded yet: every item listed now is back catalogue.
    first_poll: bool


async def _feed(session: AsyncSession, url: str) -> Feed:
    feed = (await session.exec(select(Feed).where(col(Feed.url) == url))).first()
    if feed is None:
        feed = Feed(url=url, first_seen_at=utcnow())
        session.add(feed)
        await session.flush()
    return feed


async def feed_state(session: AsyncSession, *, url: str) -> FeedState:
    """The feed's stored state; a feed never seen before is recorded as first seen now."""
    feed = await _feed(session, url)
    return FeedState(
        url=url,
        etag=feed.etag,
        last_modified=feed.last_modified,
        first_seen_at=feed.first_seen_at,
        first_poll=feed.last_success_at is None,
    )


async def record_feed_success(
    session: AsyncSession, *, url: str, etag: str | None, last_modified: str | None
) -> None:
    """Keep the validators of a successful poll and clear the feed's last error."""
    feed = await _feed(session, url)
    now = utcnow()
    feed.etag = etag
    feed.last_modified = last_modified
    feed.last_error = None
    feed.last_checked_at = now
    feed.last_success_at = now
    session.add(feed)
    await session.flush()


async def record_feed_error(session: AsyncSession, *, url: str, error: str) -> None:
    """Note the failure of a poll; the validators of the last success stay."""
    feed = await _feed(session, url)
    feed.last_error = error
    feed.last_checked_at = utcnow()
    session.add(feed)
    await session.flush()


async def get_feed(session: AsyncSession, *, url: str) -> Feed | None:
    return (await session.exec(select(Feed).where(col(Feed.url) == url))).first()


async def seen_keys(session: AsyncSession, *, keys: Collection[str]) -> set[str]:
    """Which of `keys` belong to items already dealt with."""
    if not keys:
        return set()
    rows = await session.exec(
        select(FeedItemSeen.key).where(col(FeedItemSeen.key).in_(list(keys)))
    )
    return set(rows.all())


async def mark_seen(
    session: AsyncSession, *, key: str, feed_url: str, article_id: int | None
) -> bool:
    """Record the item as dealt with (and its article, if published); False if it already was."""
    existing = (
        await session.exec(select(FeedItemSeen.id).where(col(FeedItemSeen.key) == key))
    ).first()
    if existing is not None:
        return False
    session.add(FeedItemSeen(key=key, feed_url=feed_url, article_id=article_id))
    await session.flush()
    return True
