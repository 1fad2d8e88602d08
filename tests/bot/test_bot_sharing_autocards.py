"""Autocards through the emulator: group admins switch them on and off, links to our articles
get the card as a reply once per chat, unknown links are left alone (or read first for
AUTOCARD_SITES)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import pytest
from bot_articles_support import SEED_TITLE, NewsSite, run_bot, serve_news_site
from harness import BOT_TOKEN, RunningBot
from sharing_support import (
    article_url,
    articles_delivered,
    cards_in,
    delivery_rows,
    publish,
    send_text_link,
)

from bot.handlers.sharing import (
    AUTOCARDS_ADMINS_ONLY,
    AUTOCARDS_CANNOT_SEE,
    AUTOCARDS_GROUPS_ONLY,
    AUTOCARDS_OFF,
    AUTOCARDS_ON,
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


@pytest.fixture(name="site")
async def fixture_site() -> AsyncIterator[NewsSite]:
    """A news site on 127.0.0.1 serving the seed-shaped page."""
    async with serve_news_site() as site:
        yield site


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
