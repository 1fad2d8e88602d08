"""What readers ask for: /latest and deep links `start=a_<id>`, and the card's limits, through
the emulator (which refuses anything over Telegram's limits)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bot_articles_support import (
    SEED_FACT,
    SEED_TITLE,
    NewsSite,
    cards,
    entity_text,
    final_status,
    reply_after,
    run_bot,
)
from harness import BOT_TOKEN, RunningBot, quicken_private_chats, wait_until
from sqlmodel import select

from bot.articles.handlers import NOT_AVAILABLE, NOTHING_YET
from emulator.simulation import Emulator, SimMessage
from storage.models import PollMessage


@pytest.fixture(name="bot")
async def fixture_bot(emulator: Emulator, database_url: str) -> AsyncIterator[RunningBot]:
    """The bot polling the emulator; private chats paced quicker (these tests check what
    readers are shown, not its pace)."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    async with run_bot(emulator, account, admin, database_url) as running:
        quicken_private_chats(running)
        yield running


async def _publish(bot: RunningBot, text: str, reply_to: SimMessage | None = None) -> str:
    emu = bot.emulator
    sent = await emu.send_message(bot.admin, text, reply_to=reply_to)
    status = await reply_after(emu, emu.private_chat(bot.admin), sent.message_id)
    return await final_status(emu, status)


async def _poll_messages(bot: RunningBot, chat_id: int) -> list[int | None]:
    """The chat's registered poll messages, once there are any (registered after the send)."""

    async def registered() -> list[int | None] | None:
        async with bot.db.transaction() as session:
            rows = await session.exec(select(PollMessage).where(PollMessage.chat_id == chat_id))
            return [row.message_id for row in rows] or None

    shown: list[int | None] = await wait_until(
        registered, what=f"a poll message in chat {chat_id}"
    )
    return shown


async def test_latest_before_anything_is_published(bot: RunningBot) -> None:
    """/latest with no article yet says so."""
    emu = bot.emulator
    reader = emu.create_user("Nia")
    sent = await emu.send_message(reader, "/latest")
    reply = await reply_after(emu, emu.private_chat(reader), sent.message_id)
    assert reply.text == NOTHING_YET


async def test_latest_shows_the_newest_card_with_a_live_poll(
    bot: RunningBot, site: NewsSite
) -> None:
    """/latest shows the newest article's card, and its poll message is kept live."""
    emu = bot.emulator
    assert (await _publish(bot, f"/publish {site.url('/story')}")).startswith("Published")
    assert (await _publish(bot, f"/publish {site.url('/news/second')}")).startswith("Published")
    reader = emu.create_user("Ola")
    chat = emu.private_chat(reader)

    await emu.send_message(reader, "/latest")

    (card,) = await emu.wait_for(lambda: cards(emu, chat), timeout=10)
    photo = next(m for m in emu.bot_messages(chat) if m.photo)
    assert (photo.caption or "").startswith("second")
    assert await _poll_messages(bot, reader.id) == [card.message_id]


async def test_deep_link_shows_that_articles_card(bot: RunningBot, site: NewsSite) -> None:
    """`/start a_<id>` shows the card of that article without any subscription."""
    emu = bot.emulator
    assert (await _publish(bot, f"/publish {site.url('/story')}")).startswith("Published")
    reader = emu.create_user("Pia")
    chat = emu.private_chat(reader)

    await emu.send_message(reader, "/start a_1")

    (card,) = await emu.wait_for(lambda: cards(emu, chat), timeout=10)
    photo = next(m for m in emu.bot_messages(chat) if m.photo)
    assert (photo.caption or "").startswith(SEED_TITLE)
    assert [entity_text(card, e) for e in card.entities if e.type == "spoiler"] == [SEED_FACT]
    assert await _poll_messages(bot, reader.id) == [card.message_id]


async def test_deep_link_to_an_unknown_article(bot: RunningBot) -> None:
    """A deep link to an id that was never published says the article is not available."""
    emu = bot.emulator
    reader = emu.create_user("Quin")
    sent = await emu.send_message(reader, "/start a_999")
    reply = await reply_after(emu, emu.private_chat(reader), sent.message_id)
    assert reply.text == NOT_AVAILABLE


LONG_TITLE = "Harbour " * 60
# Markdown reads raw tags as markup, so the front matter spells literal ones escaped.
POINTS = "\n".join(
    f"  - 'Point {n}: the \\<b\\>council\\</b\\> & the 🌊 harbour board agreed on item {n}."
    " Work starts in spring and must finish before the summer season begins.'"
    for n in range(1, 41)
)
EXTREME = f"""---
title: "{LONG_TITLE.strip()} 🐚"
url: https://tidewater-ledger.example/news/extreme
standfirst: '&lt;script&gt;alert(1)&lt;/script&gt; & 👩‍👩‍👧 families welcome'
author: The Desk
fact: 'Seagrass &lt;tg-spoiler&gt; is not a tag here & neither is &lt;/b&gt;.'
key_points:
{POINTS}
poll:
  question: 'Is \\<this\\> & that 🌊 fair?'
---
Body text of the extreme article. It has enough words to be read.
"""


async def test_card_limits_long_title_many_points_emoji_and_html_text(bot: RunningBot) -> None:
    """A card with a huge title, 40 key points, emoji and HTML-looking text is accepted by the
    emulator (which enforces Telegram's limits) and shows the text literally."""
    emu = bot.emulator
    reader = emu.create_user("Ros")
    await emu.send_message(reader, "/subscribe")
    upload = await emu.send_message(bot.admin, "", document=("extreme.md", EXTREME.encode()))

    outcome = await _publish(bot, "/publish", reply_to=upload)

    assert outcome.startswith("Published article 1: queued for 1 chat.\nHeadline: Harbour Harbour")
    chat = emu.private_chat(reader)
    (card,) = await emu.wait_for(lambda: cards(emu, chat), timeout=10)
    text = card.text or ""
    assert len(text) <= 4096
    assert text.startswith("Harbour Harbour")
    assert "<script>alert(1)</script> & 👩‍👩‍👧 families welcome" in text
    assert "• Point 1: the <b>council</b> & the 🌊 harbour board agreed on item 1." in text
    assert "Point 40" not in text
    assert [entity_text(card, e) for e in card.entities if e.type == "spoiler"] == [
        "Seagrass <tg-spoiler> is not a tag here & neither is </b>."
    ]
    assert "Is <this> & that 🌊 fair?" in text
    failed = [r for r in emu.requests() if r.status != 200 and r.method != "getUpdates"]
    assert failed == []
