"""FETCH_ALLOW_PRIVATE through the bot: with its default, /publish, the feed job and reading a
source without a client refuse a page on this machine, say why and what to set, and fetch and
store nothing; allowed, the same page is read."""

from __future__ import annotations

import pytest
from bot_articles_support import (
    SEED_TITLE,
    NewsSite,
    count_articles,
    final_status,
    reply_after,
    run_bot,
)
from harness import BOT_TOKEN, make_settings

from bot.articles.handlers import FETCHING
from bot.articles.publishing import read_source
from emulator.simulation import Emulator
from newsroom.errors import IngestError
from storage import feeds

REFUSED = (
    "refused: 127.0.0.1 is a private or local address "
    "(set FETCH_ALLOW_PRIVATE=true to fetch from an intranet)"
)


async def test_publish_of_a_page_on_this_machine_is_refused_by_default(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """/publish of an address on 127.0.0.1 tells the admin it was refused and which setting
    would allow it; the page is never requested and nothing is stored."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    url = site.url("/story")

    async with run_bot(emulator, account, admin, database_url, fetch_allow_private=False) as bot:
        chat = emulator.private_chat(admin)
        sent = await emulator.send_message(admin, f"/publish {url}")
        status = await reply_after(emulator, chat, sent.message_id)
        assert status.text == FETCHING
        outcome = await final_status(emulator, status)
        stored = await count_articles(bot.db)

    assert outcome == f"Could not publish: {url}: {REFUSED}"
    assert stored == 0
    assert site.requested("/story") == 0


async def test_a_feed_on_this_machine_is_refused_by_default(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """The feed job refuses a feed on 127.0.0.1: the reason is the feed's stored last error,
    and the feed is never requested."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    feed_url = site.url("/feed.xml")

    async with run_bot(
        emulator,
        account,
        admin,
        database_url,
        feeds=(feed_url,),
        feed_interval=3600.0,
        fetch_allow_private=False,
    ) as bot:
        (report,) = await bot.application.bot_data.feeds.poll_now()
        async with bot.db.transaction() as session:
            stored = await feeds.get_feed(session, url=feed_url)

    assert report.error == REFUSED
    assert stored is not None
    assert stored.last_error == REFUSED
    assert site.feed_answers == []


async def test_reading_a_source_without_a_client_follows_the_setting(
    emulator: Emulator, site: NewsSite
) -> None:
    """read_source without a client fetches with the settings' own client: refused by
    default, read when FETCH_ALLOW_PRIVATE is set."""
    url = site.url("/story")
    default = make_settings(emulator, "sqlite+aiosqlite://", set())

    with pytest.raises(IngestError) as refused:
        await read_source(url, settings=default)
    draft = await read_source(
        url, settings=default.model_copy(update={"fetch_allow_private": True})
    )

    assert str(refused.value) == f"{url}: {REFUSED}"
    assert draft.title == SEED_TITLE
    assert site.requested("/story") == 1


async def test_reading_a_source_confined_to_sites_stops_at_a_hop_off_them(
    emulator: Emulator, site: NewsSite
) -> None:
    """read_source with `sites` refuses a redirect leaving them, naming where it led."""
    settings = make_settings(emulator, "sqlite+aiosqlite://", set(), fetch_allow_private=True)
    url = site.url("/away/tide")
    target = url.replace("127.0.0.1", "localhost").replace("/away/", "/own/")

    with pytest.raises(IngestError) as refused:
        await read_source(url, settings=settings, sites=("127.0.0.1",))

    assert str(refused.value) == f"{url}: redirects off the listed sites (to {target})"
    assert site.requested("/own/") == 0
