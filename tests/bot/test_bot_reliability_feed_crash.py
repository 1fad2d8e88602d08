"""`python -m bot run` killed with SIGKILL in the middle of a feed ingest, then started again:
every item becomes one published article, none is left half-stored, none goes out twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from bot_articles_support import FeedEntry, NewsSite, story_page
from delivery_world import rows_left, subscribe_readers
from harness import BOT_TOKEN, bot_env, start_logged_bot, wait_until
from sqlmodel import col, func, select

from emulator.simulation import Emulator
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Article, ArticleStatus, Delivery, DeliveryStatus, FeedItemSeen

ITEMS = 6
READERS = 3
PAGE_DELAY = 0.25  # each article page answers slowly, so the kill lands mid-ingest


@pytest.fixture(name="slow_site")
async def slow_site_fixture() -> AsyncIterator[NewsSite]:
    """A feed of fresh items whose article pages each take a moment to load."""
    site = NewsSite()
    fresh = datetime.now(UTC) + timedelta(minutes=5)
    site.entries = [
        FeedEntry(f"crash-{n}", f"Harbour story {n}", f"/news/story-{n}", fresh)
        for n in range(ITEMS)
    ]

    async def news(request: web.Request) -> web.Response:
        await asyncio.sleep(PAGE_DELAY)
        slug = request.match_info["slug"]
        title = next(e.title for e in site.entries if e.path == f"/news/{slug}")
        return web.Response(body=story_page(slug, title), content_type="text/html")

    async def feed(_: web.Request) -> web.Response:
        return web.Response(body=site.feed_xml(), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/news/{slug}", news)
    app.router.add_get("/feed.xml", feed)
    async with TestServer(app, host="127.0.0.1") as server:
        site.base = str(server.make_url("")).rstrip("/")
        yield site


async def _articles(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(Article))).one()


@pytest.mark.slow
async def test_sigkill_mid_feed_ingest_then_restart(
    emulator: Emulator, slow_site: NewsSite, tmp_path: Path, database_url: str
) -> None:
    """After kill -9 mid-ingest and a restart: one published article per item, each delivered
    once to every reader, every item marked seen with its article."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    db = Database.connect(database_url)
    await upgrade(db)
    await subscribe_readers(emulator, db, READERS)
    env = bot_env(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        FEEDS=slow_site.url("/feed.xml"),
        # The feed and its pages are on 127.0.0.1, which the bot reads only when allowed.
        FETCH_ALLOW_PRIVATE="true",
        FEED_INTERVAL="3600",
        LOG_LEVEL="WARNING",
        PTB_TIMEDELTA="1",
    )

    first = await start_logged_bot(tmp_path, env)
    try:
        await wait_until(
            lambda: _at_least(db, 2), timeout=60, what="the first articles to be stored"
        )
    finally:
        first.kill()
        await first.wait()
    stored_at_kill = await _articles(db)
    second = await start_logged_bot(tmp_path, env)
    try:
        await wait_until(lambda: _at_least(db, ITEMS), timeout=60, what="every item stored")

        async def delivered() -> bool:
            return await rows_left(db) == 0

        await wait_until(delivered, timeout=60, what="every delivery recorded")
    finally:
        second.terminate()
        await second.wait()

    async with db.transaction() as session:
        statuses = (await session.exec(select(Article.status))).all()
        sent = (
            await session.exec(
                select(Delivery.article_id, Delivery.chat_id).where(
                    col(Delivery.status) == DeliveryStatus.SENT
                )
            )
        ).all()
        seen = (await session.exec(select(FeedItemSeen.article_id))).all()
    await db.dispose()
    assert stored_at_kill < ITEMS, "the kill must land mid-ingest"
    assert statuses == [ArticleStatus.PUBLISHED] * ITEMS
    assert len(sent) == len(set(sent)) == ITEMS * READERS
    assert len(seen) == ITEMS
    assert None not in seen


async def _at_least(db: Database, count: int) -> bool:
    return await _articles(db) >= count
