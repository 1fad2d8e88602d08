"""The card's "Read the full article" link: the article's own address, with UTM parameters
(LINK_UTM), or a tracked link (LINK_TRACKING_URL) that the webhook server counts and redirects."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from bot_articles_support import cards
from harness import BOT_TOKEN, RunningBot, make_settings, start_bot_process
from polls_support import StartBot, expected_content, shows
from sharing_support import article_markdown, article_url, cards_in, inline_copies, publish
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.app import build_application
from bot.articles.links import ArticleLinks, article_slug, with_utm
from bot.articles.publishing import publish_draft, read_markdown
from bot.cli import TRACKING_NEEDS_WEBHOOK
from bot.runtime.webhook import LINKS_UNAVAILABLE, UNKNOWN_LINK, webhook
from bot.settings import Settings
from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import Emulator, SimChat, SimMessage
from storage import engine, polls
from storage.engine import Database
from storage.models import ArticleEvent, ArticleEventKind, ChatKind

READ = "Read the full article"
SECRET = "webhook-secret_0123456789abcdefghijkl"
TRACKING = "https://news.example.test/go"


def read_link(message: SimMessage) -> str:
    """The address behind the card's "Read the full article" button."""
    (url,) = [str(b["url"]) for row in message.buttons for b in row if b.get("text") == READ]
    return url


def utm(url: str) -> dict[str, list[str]]:
    return {k: v for k, v in parse_qs(urlsplit(url).query).items() if k.startswith("utm_")}


# --- the UTM builder -------------------------------------------------------------------------


def test_utm_parameters_follow_the_links_own_query_and_precede_its_fragment() -> None:
    """The link's own query stays as written, UTM parameters come after it, the fragment last."""
    url = "https://herald.example/news/ferry?ref=rss&x=a%20b#comments"
    assert with_utm(url, medium="group", campaign="ferry") == (
        "https://herald.example/news/ferry?ref=rss&x=a%20b"
        "&utm_source=telegram&utm_medium=group&utm_campaign=ferry#comments"
    )
    assert with_utm("https://herald.example/a", medium="private", campaign="a") == (
        "https://herald.example/a?utm_source=telegram&utm_medium=private&utm_campaign=a"
    )


def test_utm_parameters_already_in_the_link_are_replaced_not_doubled() -> None:
    """A link that came with its own utm_source gets Telegram's instead, once."""
    url = "https://herald.example/a?utm_source=newsletter&id=7&utm_medium=email"
    assert with_utm(url, medium="channel", campaign="a") == (
        "https://herald.example/a?id=7&utm_source=telegram&utm_medium=channel&utm_campaign=a"
    )


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://herald.example/2024/05/Night-Ferry_Trial.html", "night-ferry_trial"),
        ("https://herald.example/news/ferry/?page=2", "ferry"),
        ("https://herald.example/news/caf%C3%A9%20opens", "caf-opens"),
        ("https://herald.example/", "article-12"),
        ("https://herald.example/news/%D0%BF%D0%BE%D1%80%D1%82", "article-12"),
    ],
)
def test_the_campaign_is_the_addresss_last_path_segment_in_safe_characters(
    url: str, slug: str
) -> None:
    """Lowercased, extension dropped, only a-z 0-9 - _; the article's id when nothing is left."""
    assert article_slug(url, article_id=12) == slug


def test_a_tracking_base_must_be_https_without_query() -> None:
    """LINK_TRACKING_URL over plain http, or with a query, is refused with a line naming it."""
    for bad in ("http://news.example.test/go", "https://news.example.test/go?x=1", "go"):
        with pytest.raises(ValueError, match="must be a public https address"):
            Settings(_env_file=None, bot_token=BOT_TOKEN, link_tracking_url=bad)
    settings = Settings(_env_file=None, bot_token=BOT_TOKEN, link_tracking_url=TRACKING + "/")
    assert settings.link_tracking_url == TRACKING


# --- cards in every kind of chat -------------------------------------------------------------


async def _subscribed_chats(bot: RunningBot) -> list[SimChat]:
    """A reader's private chat, a group and a channel, each subscribed."""
    emu = bot.emulator
    reader = emu.create_user("Ines")
    await emu.send_message(reader, "/subscribe")
    owner = emu.create_user("Gus")
    group = emu.create_group("Harbour watchers", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(owner, "/subscribe", chat=group)
    channel = emu.create_channel("Coast brief", creator=owner)
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    await emu.post_in_channel(owner, channel, "/subscribe")
    chats = [emu.private_chat(reader), group, channel]
    for chat in chats:
        await emu.wait_for(partial(emu.bot_messages, chat), what="the subscription reply")
    return chats


async def test_with_utm_each_kind_of_chat_gets_its_medium_and_keeps_it_as_totals_change(
    start_bot: StartBot,
) -> None:
    """LINK_UTM: the cards pushed to a private chat, a group and a channel, and an inline copy,
    link to the article with utm_medium private, group, channel and inline; after a vote the
    live totals edit every copy and each keeps its own link."""
    async with start_bot(link_utm=True) as bot:
        emu = bot.emulator
        chats = await _subscribed_chats(bot)
        article_id = await publish(bot, "night-ferry", "Night ferry trial extended")
        copies = [
            (await emu.wait_for(partial(cards_in, bot, chat), what=f"a card in {chat.id}"))[0]
            for chat in chats
        ]
        sharer = emu.create_user("Lea")
        answer = await emu.inline_query(sharer, f"a_{article_id}", chat_type="group")
        book_club = emu.create_group("Book club", creator=sharer)
        copies.append(
            await emu.choose_inline_result(sharer, answer, f"a{article_id}", chat=book_club)
        )
        await inline_copies(bot, 1)

        mediums = ["private", "group", "channel", "inline"]
        for copy, medium in zip(copies, mediums, strict=True):
            link = read_link(copy)
            assert link.startswith(article_url("night-ferry") + "?")
            assert utm(link) == {
                "utm_source": ["telegram"],
                "utm_medium": [medium],
                "utm_campaign": ["night-ferry"],
            }

        async with bot.db.transaction() as session:
            poll = await polls.poll_for_article(session, article_id=article_id)
        assert poll is not None
        assert poll.id is not None
        await emu.press_button(emu.create_user("Vic"), copies[1], data=encode(VoteTap(poll.id, 0)))
        expected = await expected_content(bot.db, poll.id)
        await emu.wait_for(
            lambda: all("Total votes: 1" in (copy.text or "") for copy in copies),
            timeout=15,
            what="every copy showing the vote",
        )
        for copy, medium in zip(copies, mediums, strict=True):
            assert utm(read_link(copy))["utm_medium"] == [medium]
        # The private chat's copy shows exactly the content the bot renders for it.
        assert shows(copies[0], expected)


async def test_without_link_settings_cards_link_to_the_article_itself(
    start_bot: StartBot,
) -> None:
    """Neither LINK_UTM nor LINK_TRACKING_URL: every copy links to the article's own address."""
    async with start_bot() as bot:
        chats = await _subscribed_chats(bot)
        await publish(bot, "night-ferry", "Night ferry trial extended")
        for chat in chats:
            (card,) = await bot.emulator.wait_for(partial(cards_in, bot, chat), what="a card")
            assert read_link(card) == article_url("night-ferry")


# --- tracked links ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _clicks(db: Database, article_id: int) -> list[ChatKind | None]:
    async with db.transaction() as session:
        rows = await session.exec(
            select(ArticleEvent.chat_kind).where(
                col(ArticleEvent.article_id) == article_id,
                col(ArticleEvent.kind) == ArticleEventKind.CLICK,
            )
        )
        return list(rows)


@dataclass
class TrackedCard:
    """A webhook-mode bot with LINK_TRACKING_URL, and the card one private reader got."""

    db: Database
    article_id: int
    link: str
    local: str  # the link as the reverse proxy hands it to the bot's port


@asynccontextmanager
async def tracked_card(emulator: Emulator, database_url: str) -> AsyncIterator[TrackedCard]:
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    port = _free_port()
    settings = make_settings(
        emulator,
        database_url,
        set(),
        webhook_url=f"http://127.0.0.1:{port}/telegram/updates",
        webhook_secret=SECRET,
        webhook_port=port,
        link_tracking_url=TRACKING,
        link_utm=True,
    )
    db = Database.connect(settings.database_url)
    application = build_application(settings, db)
    async with webhook(application, settings):
        reader = emulator.create_user("Ines")
        chat = emulator.private_chat(reader)
        await emulator.send_message(reader, "/subscribe")
        await emulator.wait_for_bot_message(chat)
        text = article_markdown("night-ferry", "Night ferry trial extended", "The board met.")
        draft = read_markdown(text, name="night-ferry.md", settings=settings)
        article_id = (await publish_draft(db, draft)).article_id
        application.bot_data.wake_delivery()
        (card,) = await emulator.wait_for(partial(cards, emulator, chat), what="a card")
        link = read_link(card)
        # The reverse proxy hands https://news.example.test/go/... to the bot's port as it is.
        local = f"http://127.0.0.1:{port}{urlsplit(link).path}"
        yield TrackedCard(db, article_id, link, local)


NIGHT_FERRY_FROM_PRIVATE = (
    article_url("night-ferry") + "?utm_source=telegram&utm_medium=private&utm_campaign=night-ferry"
)


async def test_a_tracked_link_counts_each_click_and_redirects_to_the_article(
    emulator: Emulator, database_url: str
) -> None:
    """LINK_TRACKING_URL in webhook mode: the card's button is <base>/r/<code>; each GET of it
    (through the reverse proxy, to the bot's web server) counts one click and answers 302 to
    the article with its UTM; a code the bot never made answers 404 with one line."""
    async with tracked_card(emulator, database_url) as card:
        assert card.link.startswith(f"{TRACKING}/r/")
        assert article_url("night-ferry") not in card.link
        async with aiohttp.ClientSession() as client:
            for _ in range(2):
                async with client.get(card.local, allow_redirects=False) as response:
                    assert response.status == 302
                    target = response.headers["Location"]
            nowhere = card.local.rsplit("/", 1)[0] + "/nosuchcode"
            async with client.get(nowhere) as response:
                assert response.status == 404
                assert await response.text() == UNKNOWN_LINK
        assert target == NIGHT_FERRY_FROM_PRIVATE
        assert await _clicks(card.db, card.article_id) == [ChatKind.PRIVATE, ChatKind.PRIVATE]
        # The link the card shows is the one the bot makes for private chats, every time.
        async with card.db.transaction() as session:
            again = await ArticleLinks(tracking_url=TRACKING).card_link(
                session,
                article_url("night-ferry"),
                article_id=card.article_id,
                audience=ChatKind.PRIVATE,
            )
        assert again == card.link


@pytest.mark.sqlite_only
async def test_a_click_the_database_cannot_count_still_reaches_the_article(
    emulator: Emulator,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While another process holds SQLite's write lock past the busy timeout, a click is not
    counted (one warning says so) but the reader still gets the 302 to the article; when the
    link cannot even be looked up, 503 with one line asks to try again."""
    # The lock is held past the busy timeout however long it is: 0.2 s rather than 5 s a wait.
    monkeypatch.setattr(
        engine,
        "SQLITE_PRAGMAS",
        tuple(
            "PRAGMA busy_timeout=200" if pragma.startswith("PRAGMA busy_timeout") else pragma
            for pragma in engine.SQLITE_PRAGMAS
        ),
    )
    async with tracked_card(emulator, database_url) as card:
        path = make_url(database_url).database
        assert path is not None
        holder = sqlite3.connect(path, timeout=0)
        try:
            holder.execute("BEGIN IMMEDIATE")
            async with (
                aiohttp.ClientSession() as client,
                client.get(card.local, allow_redirects=False) as response,
            ):
                assert response.status == 302
                assert response.headers["Location"] == NIGHT_FERRY_FROM_PRIVATE
            holder.execute("ALTER TABLE link_codes RENAME TO link_codes_away")
            holder.commit()
            try:
                async with (
                    aiohttp.ClientSession() as client,
                    client.get(card.local, allow_redirects=False) as response,
                ):
                    assert response.status == 503
                    assert await response.text() == LINKS_UNAVAILABLE
            finally:
                holder.execute("ALTER TABLE link_codes_away RENAME TO link_codes")
                holder.commit()
        finally:
            holder.close()
        assert await _clicks(card.db, card.article_id) == []
    said = [r.getMessage() for r in caplog.records if "not counted" in r.getMessage()]
    assert len(said) == 1


async def test_tracking_while_long_polling_is_one_warning_and_cards_link_to_the_article(
    tmp_path: Path, emulator: Emulator
) -> None:
    """`run` without --webhook and with LINK_TRACKING_URL says once that clicks need the web
    server, and runs, its cards linking straight to the article rather than to tracked links
    nothing would answer."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    process = await start_bot_process(
        tmp_path,
        "run",
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        LINK_TRACKING_URL=TRACKING,
    )
    try:
        reader = emulator.create_user("Ines")
        chat = emulator.private_chat(reader)
        await emulator.send_message(reader, "/subscribe")
        await emulator.wait_for_bot_message(chat, timeout=30)
        settings = make_settings(emulator, database_url, set())
        text = article_markdown("night-ferry", "Night ferry trial extended", "The board met.")
        db = Database.connect(database_url)
        try:
            await publish_draft(db, read_markdown(text, name="night-ferry.md", settings=settings))
        finally:
            await db.dispose()
        (card,) = await emulator.wait_for(
            partial(cards, emulator, chat), timeout=30, what="a card"
        )
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0
    warnings = [line for line in err.decode().splitlines() if TRACKING_NEEDS_WEBHOOK in line]
    assert len(warnings) == 1
    assert read_link(card) == article_url("night-ferry")
