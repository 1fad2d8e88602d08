"""An article reaches the readers of its sections: those who follow one of them, and those who
follow every section; a reader of other sections, and a reader who takes a digest, get no card
of it."""

from __future__ import annotations

from functools import partial

import pytest
from bot_articles_support import cards
from harness import RunningBot, wait_until
from sharing_support import article_markdown
from sqlmodel import col, select

from bot.articles.publishing import publish_draft, read_markdown
from storage import preferences
from storage.models import Delivery, DeliveryMode, DeliveryStatus

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats


async def _queue_drained(running_bot: RunningBot) -> bool:
    async with running_bot.db.transaction() as session:
        rows = await session.exec(
            select(col(Delivery.id)).where(
                col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            )
        )
        return not rows.all()


async def test_a_card_goes_to_the_readers_of_its_sections(running_bot: RunningBot) -> None:
    """Ada follows Harbour and Ben every section: each gets the Harbour article's card; Cai
    follows Sport and Dee takes a daily digest: neither gets a card or a ledger row."""
    emu = running_bot.emulator
    readers = {name: emu.create_user(name) for name in ("Ada", "Ben", "Cai", "Dee")}
    for reader in readers.values():
        chat = emu.private_chat(reader)
        sent = await emu.send_message(reader, "/subscribe")
        await emu.wait_for_bot_message(chat, after=sent.message_id)
    async with running_bot.db.transaction() as session:
        # Chosen as /settings stores them; Ben keeps the default, every section.
        await preferences.set_sections(session, chat_id=readers["Ada"].id, sections=["Harbour"])
        await preferences.set_sections(session, chat_id=readers["Cai"].id, sections=["Sport"])
        await preferences.set_delivery_mode(
            session, chat_id=readers["Dee"].id, mode=DeliveryMode.DAILY, hour=8, weekday=None
        )

    text = article_markdown("ferry", "Night ferry trial extended", "The board met.").replace(
        "title:", "topics: [Harbour,  Transport]\ntitle:", 1
    )
    draft = read_markdown(text, name="ferry.md", settings=running_bot.settings)
    await publish_draft(running_bot.db, draft)
    running_bot.application.bot_data.wake_delivery()

    for name in ("Ada", "Ben"):
        chat = emu.private_chat(readers[name])
        await emu.wait_for(partial(cards, emu, chat), timeout=15, what=f"{name}'s card")
    await wait_until(partial(_queue_drained, running_bot), timeout=15, what="the fan-out done")
    for name in ("Cai", "Dee"):
        assert cards(emu, emu.private_chat(readers[name])) == [], name
    async with running_bot.db.transaction() as session:
        reached = set((await session.exec(select(col(Delivery.chat_id)))).all())
    assert reached == {readers["Ada"].id, readers["Ben"].id}
