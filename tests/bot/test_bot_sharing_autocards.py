"""Autocards through the emulator: group admins switch them on and off, links to our articles
get the card as a reply once per chat, unknown links are left alone (or read first for
AUTOCARD_SITES)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from bot_articles_support import SEED_TITLE, NewsSite, count_articles, run_bot
from harness import BOT_TOKEN, RunningBot, wait_until
from sharing_support import (
    article_url,
    articles_delivered,
    cards_in,
    delivery_rows,
    publish,
    send_text_link,
    send_text_links,
)

from bot.sharing.handlers import (
    AUTOCARDS_ADMINS_ONLY,
    AUTOCARDS_CANNOT_SEE,
    AUTOCARDS_GROUPS_ONLY,
    AUTOCARDS_OFF,
    AUTOCARDS_ON,
    AUTOCARDS_READS_PAUSED,
)
from bot.sharing.link_reads import (
    REMEMBER_READ,
    Exhausted,
    LinkReads,
    ReadLimitReached,
    ReadLimits,
)
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from storage import articles
from storage.models import ArticleStatus, DeliveryStatus


async def _command(emu: Emulator, user: SimUser, text: str, chat: SimChat) -> SimMessage:
    """Send a command and return the bot's reply to it."""
    sent = await emu.send_message(user, text, chat=chat)
    return await emu.wait_for(
        lambda: next(
            (m for m in emu.bot_messages(chat) if m.reply_to is sent),
            None,
        ),
        what=f"the reply to {text!r}",
    )


async def test_autocards_on_and_off(running_bot: RunningBot) -> None:
    """Off by default; only group admins switch them; when on, a link to our article gets the
    card as a reply once per chat, an unknown link nothing; off again, links are left alone."""
    bot = running_bot
    emu = bot.emulator
    owner, reader = emu.create_user("Gus"), emu.create_user("Ines")
    group = emu.create_group("Harbour watchers", creator=owner, members=[reader])
    # As a group admin the bot sees every message, not only commands.
    await emu.add_bot_to_chat(group, by=owner, admin=True)
    ferry = await publish(bot, "ferry", "Night ferry trial extended")
    gulls = await publish(bot, "gulls", "Gulls nest on the old pier")
    tides = await publish(bot, "tides", "Spring tides flood the quay")

    await emu.send_message(reader, f"Before: {article_url('ferry')}", chat=group)
    refused = await _command(emu, reader, "/autocards on", group)
    assert refused.text == AUTOCARDS_ADMINS_ONLY
    assert (await _command(emu, owner, "/autocards", group)).text == (
        "Autocards are off here. Send /autocards on or /autocards off."
    )
    assert (await _command(emu, owner, "/autocards on", group)).text == AUTOCARDS_ON

    link = await emu.send_message(
        reader, f"Have you seen {article_url('ferry')}?utm_source=share", chat=group
    )
    (card,) = await emu.wait_for(partial(cards_in, bot, group), what="the autocard")
    assert card.reply_to is link
    assert card.text is not None
    assert card.text.startswith("Night ferry trial extended")
    await emu.send_message(reader, f"Again: {article_url('ferry')}", chat=group)
    await emu.send_message(reader, "Not ours: https://elsewhere.example/story", chat=group)
    second = await emu.send_message(reader, f"And {article_url('gulls')}", chat=group)
    await emu.wait_for(lambda: len(cards_in(bot, group)) >= 2, what="the second autocard")
    cards = cards_in(bot, group)
    assert [(c.reply_to, (c.text or "").split("\n")[0]) for c in cards] == [
        (link, "Night ferry trial extended"),
        (second, "Gulls nest on the old pier"),
    ]
    (row,) = await delivery_rows(bot, article_id=ferry, chat_id=group.id)
    assert (row.status, row.message_id) == (DeliveryStatus.SENT, card.message_id)
    assert len(await delivery_rows(bot, article_id=gulls, chat_id=group.id)) == 1

    assert (await _command(emu, owner, "/autocards off", group)).text == AUTOCARDS_OFF
    await emu.send_message(reader, f"Now {article_url('tides')}", chat=group)
    assert (await _command(emu, owner, "/autocards", group)).text is not None
    assert len(cards_in(bot, group)) == 2
    assert await delivery_rows(bot, article_id=tides, chat_id=group.id) == []


async def test_autocards_is_a_group_switch(running_bot: RunningBot) -> None:
    """In a private chat /autocards explains itself; in a group where the bot cannot see every
    message, turning it on says so."""
    bot = running_bot
    emu = bot.emulator
    owner = emu.create_user("Gus")
    await emu.send_message(owner, "/autocards on")
    reply = await emu.wait_for_bot_message(emu.private_chat(owner))
    assert reply.text == AUTOCARDS_GROUPS_ONLY
    group = emu.create_group("Quiet corner", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    assert (await _command(emu, owner, "/autocards on", group)).text == (
        f"{AUTOCARDS_ON}\n\n{AUTOCARDS_CANNOT_SEE}"
    )


async def test_links_to_listed_sites_are_read_first(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """With the site in AUTOCARD_SITES an unknown link is read, stored (not pushed) and carded;
    a page that is no article, or a site not listed, is left alone."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    async with run_bot(
        emulator, account, admin, database_url, autocard_sites=("127.0.0.1",)
    ) as bot:
        emu = bot.emulator
        subscriber = emu.create_user("Sam")
        await emu.send_message(subscriber, "/subscribe")
        await emu.wait_for_bot_message(emu.private_chat(subscriber))
        owner = emu.create_user("Gus")
        group = emu.create_group("Harbour watchers", creator=owner)
        await emu.add_bot_to_chat(group, by=owner, admin=True)
        assert (await _command(emu, owner, "/autocards on", group)).text == AUTOCARDS_ON

        send_text_link(emu, owner, group, "Not an article", site.url("/untitled"))
        await emu.send_message(owner, "Unlisted: https://elsewhere.example/story", chat=group)
        link = send_text_link(emu, owner, group, "Seagrass story", site.url("/story"))
        await emu.wait_for(partial(cards_in, bot, group), timeout=10, what="the autocard")
        # The page has an image: the photo answers the link, the poll message follows it.
        photo, follow_up = emu.bot_messages(group)[-2:]
        assert photo.reply_to is link
        assert SEED_TITLE in (photo.text or "")
        assert cards_in(bot, group) == [follow_up]

        async with bot.db.transaction() as session:
            stored = await articles.search_articles(session, text="")
            found = await articles.find_article(session, url="https://elsewhere.example/story")
        # Stored as a draft: readers are not pushed an article nobody published.
        assert stored == []
        assert found is None
        assert cards_in(bot, emu.private_chat(subscriber)) == []
        (article_id,) = await articles_delivered(bot, group.id)
        async with bot.db.transaction() as session:
            article = await articles.get_article(session, article_id=article_id)
        assert article is not None
        assert (article.title, article.status) == (SEED_TITLE, ArticleStatus.DRAFT)


# --- reading links costs little, whatever is posted -------------------------------------------


@contextlib.asynccontextmanager
async def _reading_bot(
    emulator: Emulator, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[RunningBot, SimChat]]:
    """The bot reading links to 127.0.0.1 for autocards, and a group where they are on."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    settings = {"autocard_sites": ("127.0.0.1",), **overrides}
    async with run_bot(emulator, account, admin, database_url, **settings) as bot:
        owner = emulator.create_user("Gus")
        group = emulator.create_group("Harbour watchers", creator=owner)
        await emulator.add_bot_to_chat(group, by=owner, admin=True)
        assert (await _command(emulator, owner, "/autocards on", group)).text == AUTOCARDS_ON
        yield bot, group


async def _known_articles(bot: RunningBot, count: int) -> list[str]:
    """Published articles the bot has (no page to read): links to them cost no fetch."""
    for n in range(count):
        await publish(bot, f"known-{n}", f"Known story {n}")
    return [article_url(f"known-{n}") for n in range(count)]


def _answered(bot: RunningBot, group: SimChat, message: SimMessage) -> bool:
    """Whether the known article linked last in the message got its card, so every link
    before it in the message has been dealt with."""
    return any(
        m.reply_to is message and (m.text or "").startswith("Known story ")
        for m in bot.emulator.bot_messages(group)
    )


async def _post_all(
    bot: RunningBot, group: SimChat, posts: list[tuple[SimUser, str]], known: list[str]
) -> list[SimMessage]:
    """Each poster sends the link, then a link to a known article; returns once all are
    dealt with."""
    sent = [
        send_text_links(bot.emulator, user, group, [("Look", link), ("Known", known[n])])
        for n, (user, link) in enumerate(posts)
    ]
    for message in sent:
        await bot.emulator.wait_for(
            partial(_answered, bot, group, message), timeout=15, what="the known card"
        )
    return sent


def _paused(bot: RunningBot, group: SimChat) -> list[SimMessage]:
    return [m for m in bot.emulator.bot_messages(group) if m.text == AUTOCARDS_READS_PAUSED]


async def test_a_link_posted_many_times_is_read_once(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """Fifteen posts of one link (which redirects to the story) cost one fetch of the page and
    one card; the address posted is remembered, not only the one the story is stored under."""
    async with _reading_bot(emulator, database_url) as (bot, group):
        known = await _known_articles(bot, 15)
        reader = emulator.create_user("Ines")
        link = site.url("/go/seagrass")

        await _post_all(bot, group, [(reader, link)] * 15, known)

        assert site.requested("/go/") == 1
        assert site.requested("/own/") == 1
        assert len(cards_in(bot, group)) == 15 + 1
        assert _paused(bot, group) == []


async def test_a_failing_link_is_not_read_again_at_once(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """A link whose page answers 404 is read once: posted again, it is left alone without a
    second fetch (until AUTOCARD_RETRY_AFTER has passed)."""
    async with _reading_bot(emulator, database_url) as (bot, group):
        known = await _known_articles(bot, 2)
        reader = emulator.create_user("Ines")
        missing = site.url("/missing")

        await _post_all(bot, group, [(reader, missing)], known[:1])
        await _post_all(bot, group, [(reader, missing)], known[1:])

        assert site.requested("/missing") == 1
        assert len(cards_in(bot, group)) == 2
        assert await count_articles(bot.db) == 2


@pytest.mark.parametrize("who", [Exhausted.READER, Exhausted.GROUP])
async def test_reads_past_the_limit_stop_and_the_chat_is_told_once(
    emulator: Emulator, database_url: str, site: NewsSite, who: Exhausted
) -> None:
    """Past AUTOCARD_READS_PER_READER (one reader) or AUTOCARD_READS_PER_GROUP (several) new
    links are not read: the group is told once, links to known articles still get cards."""
    limits = {"autocard_reads_per_reader": 100, "autocard_reads_per_group": 100}
    limits[f"autocard_reads_per_{who.value}"] = 3
    async with _reading_bot(emulator, database_url, **limits) as (bot, group):
        known = await _known_articles(bot, 7)
        readers = [emulator.create_user(name) for name in ("Ines", "Rex", "Lea")]
        posters = [readers[0]] * 7 if who == Exhausted.READER else (readers * 3)[:7]
        links = [site.url(f"/own/story-{n}") for n in range(7)]

        await _post_all(bot, group, list(zip(posters[:6], links[:6], strict=True)), known[:6])

        assert site.requested("/own/") == 3
        assert len(cards_in(bot, group)) == 6 + 3
        (paused,) = _paused(bot, group)
        assert paused.reply_to is not None

        # Still within the window: the next new link is not read, and nothing more is said.
        await _post_all(bot, group, [(posters[6], links[6])], known[6:])
        assert site.requested("/own/") == 3
        assert len(_paused(bot, group)) == 1


async def test_only_so_many_pages_are_read_at_once(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """With AUTOCARD_READS_AT_ONCE=2, six new links posted together are read two at a time:
    while the site holds two answers back no third page is asked for, and every link gets its
    card once the site answers."""
    async with _reading_bot(emulator, database_url, autocard_reads_at_once=2) as (bot, group):
        known = await _known_articles(bot, 1)
        for n in range(6):
            reader = emulator.create_user(f"Reader {n}")
            send_text_link(emulator, reader, group, "Look", site.url(f"/held/story-{n}"))

        async def two_waiting() -> bool:
            return site.held_waiting >= 2

        await wait_until(two_waiting, timeout=15, what="two pages asked for")
        # A later link, to a known article, that the bot handles start to finish meanwhile.
        later = send_text_link(emulator, emulator.create_user("Lea"), group, "Known", known[0])
        await emulator.wait_for(partial(_answered, bot, group, later), what="the known card")
        assert site.held_waiting == 2

        for _ in range(6):
            site.held.release()
        await emulator.wait_for(
            lambda: len(cards_in(bot, group)) == 1 + 6, timeout=15, what="six autocards"
        )
        assert site.requested("/held/") == 6
        assert site.most_held_waiting == 2


async def test_a_redirect_off_the_listed_sites_is_not_followed(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """A link to a listed site that redirects to another host is refused at the redirect:
    the other host is never asked, nothing is stored, and the group gets no card."""
    async with _reading_bot(emulator, database_url) as (bot, group):
        known = await _known_articles(bot, 1)
        reader = emulator.create_user("Ines")

        await _post_all(bot, group, [(reader, site.url("/away/seagrass"))], known)

        assert [host for host, _ in site.requests] == ["127.0.0.1"]
        assert site.requested("/away/") == 1
        assert len(cards_in(bot, group)) == 1
        assert await count_articles(bot.db) == 1


async def test_remembered_answers_and_limits_expire() -> None:
    """A failure is remembered for AUTOCARD_RETRY_AFTER seconds and an article for an hour;
    a limit is told once per window and frees up when the window has passed."""
    now = [0.0]
    reads = LinkReads(
        ReadLimits(per_reader=1, per_group=10, window=60, at_once=1, retry_after=30),
        clock=lambda: now[0],
    )
    fetched: list[str] = []

    async def fetch_nothing() -> None:
        fetched.append("missing")

    async def fetch_story() -> str:
        fetched.append("story")
        return "https://news.example/story"

    assert await reads.read("a", chat_id=1, user_id=7, fetch=fetch_nothing) is None
    now[0] = 29.0
    assert await reads.read("a", chat_id=1, user_id=8, fetch=fetch_nothing) is None
    assert fetched == ["missing"]
    with pytest.raises(ReadLimitReached) as first:
        await reads.read("b", chat_id=1, user_id=7, fetch=fetch_story)
    with pytest.raises(ReadLimitReached) as second:
        await reads.read("b", chat_id=1, user_id=7, fetch=fetch_story)
    assert (first.value.who, first.value.tell, second.value.tell) == (
        Exhausted.READER,
        True,
        False,
    )

    now[0] = 61.0
    assert await reads.read("a", chat_id=1, user_id=8, fetch=fetch_nothing) is None
    stored = await reads.read("b", chat_id=1, user_id=7, fetch=fetch_story)
    assert (stored, fetched) == ("https://news.example/story", ["missing", "missing", "story"])
    now[0] = 61.0 + REMEMBER_READ - 1
    assert reads.remembered("b") == (True, stored)
    now[0] = 61.0 + REMEMBER_READ
    assert reads.remembered("b") == (False, None)
