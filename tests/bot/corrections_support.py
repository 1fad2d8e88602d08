"""Helpers for correction tests: an article published as an editor publishes one, the admin's
/update and /retract with their preview and Confirm, and what each copy shows afterwards."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from delivery_world import rows_left
from harness import RunningBot, wait_until
from sqlmodel import select

from bot.articles.publishing import publish_draft, read_markdown
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from emulator.state import Member
from storage import chats
from storage.engine import Database
from storage.models import Article, CardCopy, ChatKind

STORY_URL = "https://harbour-courier.example/2026/ferry-timetable"


def story(title: str, *, poll: bool = False, url: str = STORY_URL) -> str:
    """A Markdown article an editor writes, without an image (one message per copy)."""
    question = "\npoll:\n  question: Would you take the late ferry?" if poll else ""
    return f"""---
title: {title}
url: {url}
author: Harbour Desk
fact: The first ferry here was a rowing boat on a rope.{question}
key_points:
  - The last sailing leaves at 11.40pm.
  - Crews warn that rough weather will test the timetable.
---
The night ferry between Gull Point and Marram Bay will run all year.

The last sailing now leaves two hours later than the old timetable.
"""


async def publish_story(running: RunningBot, text: str) -> int:
    """Store and queue the article as /publish does, and have the engine send it."""
    draft = read_markdown(text, name="story.md", settings=running.settings)
    result = await publish_draft(running.db, draft, published_by=running.admin.id)
    running.application.bot_data.wake_delivery()
    return result.article_id


async def stored_article(db: Database, article_id: int) -> Article:
    async with db.transaction() as session:
        article = await session.get(Article, article_id)
    assert article is not None
    return article


def admin_chat(running: RunningBot) -> SimChat:
    return running.emulator.private_chat(running.admin)


async def say(
    running: RunningBot,
    text: str,
    *,
    reply_to: SimMessage | None = None,
    contains: str | None = None,
    user: SimUser | None = None,
) -> SimMessage:
    """The admin (or `user`) sends a command; the bot's first answer after it (or the first
    that contains `contains`, as it is edited)."""
    emu = running.emulator
    author = user or running.admin
    chat = emu.private_chat(author)
    sent = await emu.send_message(author, text, reply_to=reply_to)
    answer = await emu.wait_for_bot_message(chat, after=sent.message_id, timeout=10)
    if contains is not None:
        await emu.wait_for(
            lambda: contains in (answer.text or ""),
            timeout=15,
            what=f"an answer with {contains!r}",
        )
    return answer


async def confirm(running: RunningBot, preview: SimMessage, *, until: str) -> SimMessage:
    """The admin presses Confirm; the preview once it reads `until` (the report, say)."""
    emu = running.emulator
    await emu.press_button(running.admin, preview, text="Confirm")
    await emu.wait_for(
        lambda: until in (preview.text or ""), timeout=20, what=f"the preview to read {until!r}"
    )
    return preview


def keyboard_message(emu: Emulator, chat: SimChat) -> SimMessage:
    """The bot's card message that carries the keyboard in the chat."""
    return next(m for m in reversed(emu.bot_messages(chat)) if m.buttons)


def button_labels(message: SimMessage) -> list[str]:
    return [str(button.get("text")) for row in message.buttons for button in row]


def updated_lines(message: SimMessage) -> int:
    return (message.text or "").count("Updated ")


def all_cards(emu: Emulator, chats: Iterable[SimChat]) -> list[SimMessage]:
    return [keyboard_message(emu, chat) for chat in chats]


async def subscribe_channel(emu: Emulator, db: Database, owner: SimUser, title: str) -> SimChat:
    """A channel with the bot as its admin, stored as subscribed (without any update)."""
    channel = emu.create_channel(title, creator=owner)
    bot = next(iter(emu.world.bots.values()))
    channel.members[bot.id] = Member(bot.user, "administrator", {"can_post_messages": True})
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=channel.id, kind=ChatKind.CHANNEL, title=title)
        await chats.subscribe_chat(session, chat_id=channel.id)
    return channel


async def share_inline(
    emu: Emulator, reader: SimUser, article_id: int, chat: SimChat
) -> SimMessage:
    """The reader posts the article's card in `chat` through inline mode."""
    answer = await emu.inline_query(reader, f"a_{article_id}")
    return await emu.choose_inline_result(reader, answer, answer.results[0]["id"], chat=chat)


async def card_copies(db: Database) -> int:
    """How many copies the bot recorded outside the delivery ledger (on request, inline)."""
    async with db.transaction() as session:
        return len((await session.exec(select(CardCopy))).all())


async def delivered(running: RunningBot, chats: Iterable[SimChat]) -> list[SimMessage]:
    """Each chat's card, once the bot sent it and recorded the send (sends are recorded in
    batches, just after the messages show)."""
    emu = running.emulator
    for chat in chats:
        await emu.wait_for(lambda chat=chat: emu.bot_messages(chat), timeout=10, what="a card")
    await wait_until(partial(_all_recorded, running.db), timeout=10, what="the sends recorded")
    return [keyboard_message(emu, chat) for chat in chats]


async def _all_recorded(db: Database) -> bool:
    return await rows_left(db) == 0
