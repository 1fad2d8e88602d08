"""/publish through the emulator: a page on 127.0.0.1 reaches every subscriber exactly once,
and bad input is explained to the admin with nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

import pytest
from bot_articles_support import (
    FORGED_TITLE,
    SEED_FACT,
    SEED_POLL,
    SEED_TITLE,
    FeedEntry,
    NewsSite,
    cards,
    count_articles,
    entity_text,
    final_status,
    reply_after,
    run_bot,
    subscribe_audience,
)
from harness import BOT_TOKEN, RunningBot, quicken_private_chats
from sharing_support import send_text_link
from sqlmodel import select

from bot.admins import ADMIN_ONLY
from bot.articles.handlers import FETCHING, PUBLISH_USAGE
from bot.polls.final_results import NO_VOTES
from bot.sharing.handlers import AUTOCARDS_ON
from emulator.simulation import Emulator, SimChat, SimMessage
from storage import articles
from storage.models import Article, ArticleStatus, Poll

MARKDOWN = """---
title: Millbrook Repair Café Fixes Its Thousandth Item
url: https://millbrook-courier.example/2025/11/repair-cafe-thousandth-item/
author: Priya Nandakumar
fact: The café's busiest month mended 61 items.
poll:
  question: Have you ever had something repaired instead of replacing it?
---
The repair café that meets in the basement of Millbrook library mended its thousandth item.

Volunteers keep a log of every repair. Small kitchen appliances top the list, followed by clothes.
"""
TIDE_TITLE = "Tide Gauge Returns to the Harbour"


@pytest.fixture(name="bot")
async def fixture_bot(emulator: Emulator, database_url: str) -> AsyncIterator[RunningBot]:
    """The bot with a one-second fetch timeout, polling the emulator; private chats paced
    quicker (these tests check what is sent and stored, not its pace)."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    async with run_bot(emulator, account, admin, database_url, fetch_timeout=1.0) as running:
        quicken_private_chats(running)
        yield running


async def _publish(bot: RunningBot, text: str, reply_to: SimMessage | None = None) -> str:
    emu = bot.emulator
    chat = emu.private_chat(bot.admin)
    sent = await emu.send_message(bot.admin, text, reply_to=reply_to)
    status = await reply_after(emu, chat, sent.message_id)
    assert status.text == FETCHING
    return await final_status(emu, status)


async def test_publish_reaches_every_subscriber_with_the_card(
    bot: RunningBot, site: NewsSite
) -> None:
    """Each private chat, the group and the channel get the card: headline, byline, the fact as
    a spoiler under "Did you know?", the poll and its buttons."""
    emu = bot.emulator
    audience = await subscribe_audience(emu)

    outcome = await _publish(bot, f"/publish {site.url('/story')}")

    assert outcome == f"Published article 1: queued for 4 chats.\nHeadline: {SEED_TITLE}"
    for chat in audience.chats:
        (card,) = await emu.wait_for(partial(cards, emu, chat), timeout=10)
        photo = next(m for m in emu.bot_messages(chat) if m.photo)
        caption = photo.caption or ""
        assert caption.startswith(SEED_TITLE)
        assert "By Riverside Desk · 3 min read" in caption
        text = card.text or ""
        assert "Did you know?" in text
        spoilers = [entity_text(card, e) for e in card.entities if e.type == "spoiler"]
        assert spoilers == [SEED_FACT]
        assert SEED_POLL in text
        labels = [row[0]["text"] for row in card.buttons]
        assert labels[:3] == ["Yes · 0", "No · 0", "Not sure · 0"]
        assert "Read the full article" in labels


async def test_publishing_twice_sends_nothing_new(bot: RunningBot, site: NewsSite) -> None:
    """The same page published again is reported as already published and nobody gets it twice."""
    emu = bot.emulator
    audience = await subscribe_audience(emu)
    await _publish(bot, f"/publish {site.url('/story')}")
    for chat in audience.chats:
        await emu.wait_for(partial(cards, emu, chat), timeout=10)

    outcome = await _publish(bot, f"/publish {site.url('/story')}")

    assert outcome.startswith("Article 1 was already published on ")
    assert outcome.endswith(f"; nothing sent.\nHeadline: {SEED_TITLE}")
    assert [len(cards(emu, chat)) for chat in audience.chats] == [1, 1, 1, 1]
    assert await count_articles(bot.db) == 1


async def test_publish_by_a_reader_is_refused(bot: RunningBot, site: NewsSite) -> None:
    """A user outside ADMIN_IDS is told the command is for admins, and nothing is stored."""
    emu = bot.emulator
    reader = emu.create_user("Rex")
    sent = await emu.send_message(reader, f"/publish {site.url('/story')}")
    reply = await reply_after(emu, emu.private_chat(reader), sent.message_id)
    assert reply.text == ADMIN_ONLY
    assert await count_articles(bot.db) == 0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/untitled", "the page has no title"),
        ("/report.pdf", "not a web page (its content type is application/pdf)"),
        ("/slow", "no complete answer within 1 seconds"),
        ("/loop", "redirects in a loop"),
        ("/missing", "the server answered HTTP 404"),
    ],
)
async def test_a_page_that_cannot_be_an_article_is_explained(
    bot: RunningBot, site: NewsSite, path: str, reason: str
) -> None:
    """A page without a title, a PDF, a page too slow or redirecting forever gets a clear
    "Could not publish" naming the address and the reason, and nothing is stored."""
    outcome = await _publish(bot, f"/publish {site.url(path)}")
    assert outcome.startswith(f"Could not publish: {site.url(path)}: ")
    assert reason in outcome
    assert await count_articles(bot.db) == 0


async def test_publish_of_a_server_path_is_refused(bot: RunningBot) -> None:
    """/publish only reads web addresses: a file path on the bot's server is refused outright."""
    emu = bot.emulator
    chat = emu.private_chat(bot.admin)
    sent = await emu.send_message(bot.admin, "/publish /etc/passwd.md")
    reply = await reply_after(emu, chat, sent.message_id)
    assert reply.text == "Could not publish: /etc/passwd.md: not an http(s) address"
    assert await count_articles(bot.db) == 0


async def test_publish_without_a_source_explains_usage(bot: RunningBot) -> None:
    """A bare /publish tells the admin how to use it."""
    emu = bot.emulator
    sent = await emu.send_message(bot.admin, "/publish")
    reply = await reply_after(emu, emu.private_chat(bot.admin), sent.message_id)
    assert reply.text == PUBLISH_USAGE


async def test_publish_as_a_reply_to_a_markdown_file(bot: RunningBot) -> None:
    """Replying /publish to a .md file the admin sent publishes it to every subscriber."""
    emu = bot.emulator
    audience = await subscribe_audience(emu)
    upload = await emu.send_message(
        bot.admin, "", document=("repair-cafe.md", MARKDOWN.encode("utf-8"))
    )

    outcome = await _publish(bot, "/publish", reply_to=upload)

    assert outcome == (
        "Published article 1: queued for 4 chats.\n"
        "Headline: Millbrook Repair Café Fixes Its Thousandth Item"
    )
    for chat in audience.chats:
        (card,) = await emu.wait_for(partial(cards, emu, chat), timeout=10)
        text = card.text or ""
        assert text.startswith("Millbrook Repair Café Fixes Its Thousandth Item")
        assert "By Priya Nandakumar" in text
        assert [entity_text(card, e) for e in card.entities if e.type == "spoiler"] == [
            "The café's busiest month mended 61 items."
        ]
        assert "Have you ever had something repaired instead of replacing it?" in text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("notes.txt", b"plain", "Could not publish: notes.txt is not a Markdown (.md) file."),
        (
            "huge.md",
            b"x" * 1_000_001,
            "Could not publish: huge.md is 1,000,001 bytes; at most 1,000,000 are accepted.",
        ),
        ("broken.md", b"---\ntitle: [unclosed\n---\nBody.\n", "Could not publish: broken.md: "),
        ("untitled.md", b"---\nurl: https://example.org/a\n---\nBody.\n", "has no title"),
    ],
)
async def test_a_file_that_cannot_be_an_article_is_refused(
    bot: RunningBot, name: str, data: bytes, expected: str
) -> None:
    """Other file types, files over 1 MB, broken YAML and a missing title get a clear refusal."""
    emu = bot.emulator
    chat = emu.private_chat(bot.admin)
    upload = await emu.send_message(bot.admin, "", document=(name, data))
    sent = await emu.send_message(bot.admin, "/publish", reply_to=upload)
    reply = await reply_after(emu, chat, sent.message_id)
    outcome = reply.text if reply.text != FETCHING else await final_status(emu, reply)
    assert outcome is not None
    assert expected in outcome
    assert await count_articles(bot.db) == 0


async def _autocard_group(bot: RunningBot) -> SimChat:
    """A group subscribed to the bot, with autocards on."""
    emu = bot.emulator
    owner = emu.create_user("Gus")
    group = emu.create_group("Harbour watchers", creator=owner)
    await emu.add_bot_to_chat(group, by=owner, admin=True)
    for command, answer in (("/autocards on", AUTOCARDS_ON), ("/subscribe", "Subscribed")):
        sent = await emu.send_message(owner, command, chat=group)
        reply = await emu.wait_for(
            lambda sent=sent: next(
                (m for m in emu.bot_messages(group) if m.reply_to is sent), None
            )
        )
        assert answer in (reply.text or "")
    return group


def _photos(emu: Emulator, chat: SimChat) -> list[SimMessage]:
    """The card photos the chat shows (each page card here has one, captioned by its headline)."""
    return [m for m in emu.bot_messages(chat) if m.photo]


async def test_publish_sends_what_it_reads_not_a_draft_an_autocard_stored(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """A page of the site claiming a story's address is carded in a group first (stored as a
    draft under that address); /publish of the story then sends the story as read now, to that
    group too, and names its headline; /publish of the claiming page then changes nothing."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    site.entries.append(FeedEntry("tide", TIDE_TITLE, "/own/tide", datetime.now(UTC)))
    async with run_bot(
        emulator, account, admin, database_url, autocard_sites=("127.0.0.1",)
    ) as bot:
        quicken_private_chats(bot)
        emu = bot.emulator
        reader = emu.create_user("Sam")
        await emu.send_message(reader, "/subscribe")
        await emu.wait_for_bot_message(emu.private_chat(reader))
        group = await _autocard_group(bot)
        send_text_link(emu, reader, group, "Read this", site.url("/forged/tide"))
        (forged,) = await emu.wait_for(partial(_photos, emu, group), timeout=10)
        assert (forged.caption or "").startswith(FORGED_TITLE)

        outcome = await _publish(bot, f"/publish {site.url('/own/tide')}")

        assert outcome == f"Published article 2: queued for 2 chats.\nHeadline: {TIDE_TITLE}"
        private = emu.private_chat(reader)
        (pushed,) = await emu.wait_for(partial(_photos, emu, private), timeout=10)
        await emu.wait_for(lambda: len(_photos(emu, group)) == 2, timeout=10, what="the push")
        for photo in (pushed, _photos(emu, group)[-1]):
            assert (photo.caption or "").startswith(TIDE_TITLE)
        async with bot.db.transaction() as session:
            story = await articles.get_article(session, article_id=2)
            set_aside = await articles.get_article(session, article_id=1)
        assert story is not None
        assert (story.title, story.status, story.canonical_url) == (
            TIDE_TITLE,
            ArticleStatus.PUBLISHED,
            site.url("/own/tide"),
        )
        assert set_aside is not None
        assert (set_aside.title, set_aside.status) == (FORGED_TITLE, ArticleStatus.WITHDRAWN)

        again = await _publish(bot, f"/publish {site.url('/forged/tide')}")

        assert again.startswith("Article 2 was already published on ")
        assert again.endswith(f"; nothing sent.\nHeadline: {TIDE_TITLE}")
        async with bot.db.transaction() as session:
            still = await articles.get_article(session, article_id=2)
        assert still is not None
        assert still.title == TIDE_TITLE
        assert len(_photos(emu, private)) == 1


async def test_a_closed_polls_results_go_to_the_admin_who_published_it(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """The article records which admin published it, and when its poll closes, even by another
    admin's /closepoll, that admin is told the outcome and the other one is not."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    ada = emulator.create_user("Ada", username="ada_editor")
    ben = emulator.create_user("Ben", username="ben_editor")
    admins = frozenset({ada.id, ben.id})
    assert ada.id < ben.id
    # Ben publishes; results are sent in id order, so Ada would be told first if she were told.
    async with run_bot(emulator, account, ben, database_url, admin_ids=admins) as bot:
        quicken_private_chats(bot)
        for admin in (ada, ben):
            chat = emulator.private_chat(admin)
            sent = await emulator.send_message(admin, "/start")
            await reply_after(emulator, chat, sent.message_id)
        await _publish(bot, f"/publish {site.url('/story')}")
        async with bot.db.transaction() as session:
            article = (await session.exec(select(Article))).one()
            poll = (await session.exec(select(Poll).where(Poll.article_id == article.id))).one()
        assert article.published_by == ben.id

        said = NO_VOTES.format(id=poll.id)
        sent = await emulator.send_message(ada, f"/closepoll {poll.id}")
        await reply_after(emulator, emulator.private_chat(ada), sent.message_id)
        await emulator.wait_for(
            lambda: any(m.text == said for m in emulator.bot_messages(emulator.private_chat(ben))),
            timeout=15,
            what="the outcome told to the publisher",
        )
        assert all(m.text != said for m in emulator.bot_messages(emulator.private_chat(ada)))
