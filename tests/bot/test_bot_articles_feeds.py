"""The feed job through the emulator: an RSS feed on 127.0.0.1, polled with ETags; new items go
out once, across restarts and edits of the feed; one bad feed never stops the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from bot_articles_support import (
    FORGED_TITLE,
    FeedEntry,
    NewsSite,
    cards,
    count_articles,
    run_bot,
    serve_news_site,
    subscribe_audience,
)
from harness import BOT_TOKEN
from sharing_support import send_text_link

from emulator.simulation import Emulator
from storage import articles, feeds
from storage.models import ArticleStatus


@pytest.fixture(name="site")
async def fixture_site() -> AsyncIterator[NewsSite]:
    """A news site whose feed lists two stories from last year."""
    async with serve_news_site() as site:
        old = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
        site.entries += [
            FeedEntry("ledger-1", "Old story one", "/news/old-one", old),
            FeedEntry("ledger-2", "Old story two", "/news/old-two", old + timedelta(days=1)),
        ]
        yield site


async def test_feed_items_are_published_once_across_polls_restarts_and_edits(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """The back catalogue is not pushed, an unchanged feed answers 304, a new item reaches every
    subscriber once, and neither a restart nor an edited title sends it again."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    feed_url = site.url("/feed.xml")
    settings = {"feeds": (feed_url,), "feed_interval": 3600.0}

    async with run_bot(emulator, account, admin, database_url, **settings) as bot:
        audience = await subscribe_audience(emulator)
        await bot.application.bot_data.feeds.poll_now()
        await bot.application.bot_data.feeds.poll_now()
        # The first poll (on start or the first here) reads the feed; the later ones get 304.
        assert site.feed_answers[0] == 200
        assert site.feed_answers[1:] == [304] * (len(site.feed_answers) - 1)
        assert len(site.feed_answers) >= 2
        assert await count_articles(bot.db) == 0

        fresh = datetime.now(UTC) + timedelta(minutes=1)
        site.entries.append(FeedEntry("ledger-3", "Seagrass returns", "/news/seagrass", fresh))
        (report,) = await bot.application.bot_data.feeds.poll_now()
        assert report.published == [1]
        for chat in audience.chats:
            (card,) = await emulator.wait_for(partial(cards, emulator, chat), timeout=10)
            photo = next(m for m in emulator.bot_messages(chat) if m.photo)
            assert (photo.caption or "").startswith("Seagrass returns")
            assert card.text

    site.entries[-1].title = "Seagrass returns (updated)"
    answers_before = len(site.feed_answers)
    async with run_bot(emulator, account, admin, database_url, **settings) as bot:
        (report,) = await bot.application.bot_data.feeds.poll_now()
        assert report.published == []
        # The edited feed has a new ETag: it was read in full (on start or just now).
        assert 200 in site.feed_answers[answers_before:]
        assert await count_articles(bot.db) == 1
        async with bot.db.transaction() as session:
            assert await feeds.seen_keys(session, keys=["ledger-1", "ledger-2", "ledger-3"]) == {
                "ledger-1",
                "ledger-2",
                "ledger-3",
            }
    assert [len(cards(emulator, chat)) for chat in audience.chats] == [1, 1, 1, 1]


async def test_a_failing_feed_is_logged_and_the_others_go_on(
    emulator: Emulator, database_url: str, site: NewsSite, caplog: pytest.LogCaptureFixture
) -> None:
    """A feed that is not a feed is one warning line naming it, stored as its last error, and the
    next feed in FEEDS is still polled."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    broken, good = site.url("/broken-feed.xml"), site.url("/feed.xml")
    caplog.set_level(logging.WARNING, logger="bot.articles.feeds")

    async with run_bot(
        emulator, account, admin, database_url, feeds=(broken, good), feed_interval=3600.0
    ) as bot:
        reports = await bot.application.bot_data.feeds.poll_now()
        async with bot.db.transaction() as session:
            stored = await feeds.get_feed(session, url=broken)

    assert [r.url for r in reports] == [broken, good]
    assert reports[0].error is not None
    assert "not an RSS or Atom feed" in reports[0].error
    assert reports[1].error is None
    assert reports[1].back_catalogue == 2 or reports[1].not_modified
    assert stored is not None
    assert stored.last_error == reports[0].error
    lines = [r for r in caplog.records if broken in r.getMessage()]
    assert lines
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)


async def test_a_feed_item_goes_out_as_read_not_as_an_autocard_stored_it(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """A page of the site claiming a coming story's address is carded in a group first (a
    draft under that address); when the feed lists the story, subscribers get the story as the
    feed job reads it, and the claiming page's draft is set aside."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    settings = {
        "feeds": (site.url("/feed.xml"),),
        "feed_interval": 3600.0,
        "autocard_sites": ("127.0.0.1",),
    }
    async with run_bot(emulator, account, admin, database_url, **settings) as bot:
        reader = emulator.create_user("Sam")
        await emulator.send_message(reader, "/subscribe")
        await emulator.wait_for_bot_message(emulator.private_chat(reader))
        await bot.application.bot_data.feeds.poll_now()
        owner = emulator.create_user("Gus")
        group = emulator.create_group("Harbour watchers", creator=owner)
        await emulator.add_bot_to_chat(group, by=owner, admin=True)
        sent = await emulator.send_message(owner, "/autocards on", chat=group)
        await emulator.wait_for(
            lambda: any(m.reply_to is sent for m in emulator.bot_messages(group))
        )
        send_text_link(emulator, owner, group, "Read this", site.url("/forged/seagrass"))
        await emulator.wait_for(partial(cards, emulator, group), timeout=10, what="the autocard")

        fresh = datetime.now(UTC) + timedelta(minutes=1)
        site.entries.append(FeedEntry("ledger-3", "Seagrass returns", "/own/seagrass", fresh))
        (report,) = await bot.application.bot_data.feeds.poll_now()

        assert report.published == [2]
        private = emulator.private_chat(reader)
        await emulator.wait_for(partial(cards, emulator, private), timeout=10, what="the push")
        photo = next(m for m in emulator.bot_messages(private) if m.photo)
        assert (photo.caption or "").startswith("Seagrass returns")
        assert FORGED_TITLE not in (photo.caption or "")
        async with bot.db.transaction() as session:
            set_aside = await articles.get_article(session, article_id=1)
        assert set_aside is not None
        assert (set_aside.title, set_aside.status) == (FORGED_TITLE, ArticleStatus.WITHDRAWN)
