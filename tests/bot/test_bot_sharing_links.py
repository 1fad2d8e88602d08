"""/share and the deep link it hands out, through the emulator."""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qs, urlsplit

import pytest
from harness import RunningBot, wait_until
from sharing_support import cards_in, publish
from sqlmodel import col, select

from bot.admins import ADMIN_ONLY
from bot.sharing.handlers import NO_SUCH_ARTICLE, NOT_PUBLISHED, SHARE_USAGE
from newsroom.article import ArticleDraft
from storage import articles
from storage.models import PollMessage

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats


async def test_share_gives_the_deep_link_that_opens_the_card(running_bot: RunningBot) -> None:
    """/share <id> answers with the deep link and the inline query; the deep link opens the card
    with its live poll in the bot's chat."""
    bot = running_bot
    emu = bot.emulator
    article_id = await publish(bot, "ferry", "Night ferry trial extended")
    admin_chat = emu.private_chat(bot.admin)
    await emu.send_message(bot.admin, f"/share {article_id}")
    answer = await emu.wait_for_bot_message(admin_chat)
    link = f"https://t.me/newsdesk_bot?start=a_{article_id}"
    assert answer.text is not None
    assert link in answer.text
    assert f"@newsdesk_bot a_{article_id}" in answer.text
    share, forward = (row[0] for row in answer.buttons)
    assert share["switch_inline_query"] == f"a_{article_id} Night ferry trial extended"
    assert parse_qs(urlsplit(forward["url"]).query)["url"] == [link]

    reader = emu.create_user("Ola")
    payload = parse_qs(urlsplit(link).query)["start"][0]
    await emu.send_message(reader, f"/start {payload}")
    chat = emu.private_chat(reader)
    (card,) = await emu.wait_for(partial(cards_in, bot, chat), what="the card")
    assert card.text is not None
    assert card.text.startswith("Night ferry trial extended")

    async def registered() -> bool:
        async with bot.db.transaction() as session:
            rows = await session.exec(
                select(PollMessage.message_id).where(col(PollMessage.chat_id) == chat.id)
            )
            return list(rows) == [card.message_id]

    assert await wait_until(registered, what="the card's poll message")


async def test_share_refuses_readers_and_explains_bad_ids(running_bot: RunningBot) -> None:
    """/share is for admins; a missing, unknown or unpublished article gets its own answer."""
    bot = running_bot
    emu = bot.emulator
    async with bot.db.transaction() as session:
        stored = await articles.store_article(
            session, draft=ArticleDraft(title="Embargoed", url="https://harbour-herald.example/x")
        )
    draft_id = stored.article.id
    reader = emu.create_user("Ola")
    await emu.send_message(reader, "/share 1")
    refusal = await emu.wait_for_bot_message(emu.private_chat(reader))
    assert refusal.text == ADMIN_ONLY

    admin_chat = emu.private_chat(bot.admin)
    last = 0
    for command, expected in (
        ("/share", SHARE_USAGE),
        ("/share 999", NO_SUCH_ARTICLE.format(id=999)),
        (f"/share {draft_id}", NOT_PUBLISHED.format(id=draft_id)),
    ):
        sent = await emu.send_message(bot.admin, command)
        reply = await emu.wait_for_bot_message(admin_chat, after=max(last, sent.message_id))
        last = reply.message_id
        assert reply.text == expected
