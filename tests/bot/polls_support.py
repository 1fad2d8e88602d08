"""Helpers for poll behaviour tests: an article with a poll stored directly, its card posted by
the real bot and registered as a poll message, a bot started with chosen settings, and what a
poll message should show."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from harness import BOT_TOKEN, RunningBot, make_settings, quicken_private_chats
from telegram.constants import ParseMode

from bot.app import build_application
from bot.articles.card import PollMessageContent, render_card_for_poll_update
from bot.articles.loader import card_article
from bot.runtime.lifecycle import polling
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from storage import polls
from storage.engine import Database
from storage.models import Article, ResultsVisibility

_urls = itertools.count(1)

StartBot = Callable[..., AbstractAsyncContextManager[RunningBot]]


def bot_starter(
    emulator: Emulator, database_url: str, *, quick_private_chats: bool = False
) -> StartBot:
    """A function that runs the bot (as in production) with some settings overridden, pacing
    private chats quicker if asked (`harness.quicken_private_chats`)."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningBot]:
        settings = make_settings(emulator, database_url, {admin.id})
        settings = settings.model_copy(update=overrides)
        db = Database.connect(settings.database_url)
        application = build_application(settings, db)
        async with polling(application, poll_timeout=1):
            running = RunningBot(emulator, account, admin, settings, db, application)
            if quick_private_chats:
                quicken_private_chats(running)
            yield running

    return start


async def create_article_poll(
    db: Database,
    *,
    options: tuple[str, ...] = ("Yes", "No"),
    visibility: ResultsVisibility = ResultsVisibility.ALWAYS,
    closes_at: datetime | None = None,
) -> int:
    """An article with a poll, stored as the publishing path would; returns the poll id."""
    async with db.transaction() as session:
        article = Article(
            canonical_url=f"https://news.example/story-{next(_urls)}",
            title="City votes on a car-free centre",
            standfirst="The council decides next month.",
            key_points=["Traffic fell 12% in the trial.", "Shops are split."],
            reading_minutes=3,
        )
        session.add(article)
        await session.flush()
        poll = await polls.create_poll(
            session,
            article_id=article.id,
            question="Should the centre go car-free?",
            options=options,
            closes_at=closes_at,
            visibility=visibility,
        )
        assert poll.id is not None
        return poll.id


async def expected_content(db: Database, poll_id: int) -> PollMessageContent:
    """What every message showing the poll should show, counted from the stored votes."""
    async with db.transaction() as session:
        view = await polls.poll_view(session, poll_id=poll_id)
        record = await polls.poll_record(session, poll_id=poll_id)
        assert view is not None
        assert record is not None
        assert record.article_id is not None
        article = await session.get(Article, record.article_id)
        assert article is not None
    return render_card_for_poll_update(card_article(article), poll=view)


async def post_poll_card(running_bot: RunningBot, chat: SimChat, poll_id: int) -> SimMessage:
    """The bot posts the poll's card in the chat and registers it as a poll message."""
    db = running_bot.db
    content = await expected_content(db, poll_id)
    sent = await running_bot.application.bot.send_message(
        chat.id, content.text_html, parse_mode=ParseMode.HTML, reply_markup=content.markup
    )
    async with db.transaction() as session:
        await polls.register_poll_message(
            session,
            poll_id=poll_id,
            chat_id=chat.id,
            message_id=sent.message_id,
            shown_hash=content.fingerprint,
        )
    return chat.messages[sent.message_id]


def button_labels(markup: dict[str, Any] | None) -> list[str]:
    rows = (markup or {}).get("inline_keyboard", [])
    return [str(button.get("text")) for row in rows for button in row]


def shows(message: SimMessage, content: PollMessageContent) -> bool:
    """Whether the message shows this content's keyboard and vote total."""
    expected = content.markup.to_dict()
    total = next(line for line in content.text_html.split("\n") if line.startswith("Total votes:"))
    return button_labels(message.reply_markup) == button_labels(expected) and total in (
        message.text or ""
    )


def started_private_chat(emulator: Emulator, user: SimUser) -> SimChat:
    """The user's private chat with the bot, as after they pressed Start."""
    chat = emulator.private_chat(user)
    chat.started = True
    return chat
