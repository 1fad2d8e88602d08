"""The naive bot itself: a tiny SQLite schema, a vote handler and a broadcast loop.

Written as python-telegram-bot's examples teach: handlers read their state from `bot_data`,
every update commits its own transaction, the handler edits the message(s) right away, and
sends go through `AIORateLimiter`. Nothing here is clever on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
)


def seconds_of(retry_after: float | timedelta) -> float:
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


NaiveApplication = Application[Any, Any, Any, Any, Any, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    poll_id INTEGER NOT NULL, user_id INTEGER NOT NULL, option INTEGER NOT NULL,
    PRIMARY KEY (poll_id, user_id)
);
CREATE TABLE IF NOT EXISTS poll_messages (
    poll_id INTEGER NOT NULL, chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subscribers (chat_id INTEGER PRIMARY KEY);
"""
QUESTION = "Should the centre go car-free?"
OPTIONS = ("Yes", "No", "Not sure")


async def open_database(path: str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path)
    await db.executescript(SCHEMA)
    await db.commit()
    return db


async def totals(db: aiosqlite.Connection, poll_id: int) -> list[int]:
    counts = [0] * len(OPTIONS)
    async with db.execute(
        "SELECT option, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY option", (poll_id,)
    ) as cursor:
        async for option, count in cursor:
            counts[option] = count
    return counts


def poll_text(counts: Sequence[int]) -> str:
    lines = [QUESTION, ""]
    lines += [f"{option}: {count}" for option, count in zip(OPTIONS, counts, strict=True)]
    return "\n".join(lines)


def poll_keyboard(poll_id: int, counts: Sequence[int]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"{option} ({count})", callback_data=f"vote:{poll_id}:{n}")]
            for n, (option, count) in enumerate(zip(OPTIONS, counts, strict=True))
        ]
    )


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One tap: store it (one commit), answer, then edit every copy of the poll."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, poll_id_text, option_text = query.data.split(":")
    poll_id, option = int(poll_id_text), int(option_text)
    db: aiosqlite.Connection = context.bot_data["db"]
    await db.execute(
        "INSERT OR REPLACE INTO votes (poll_id, user_id, option) VALUES (?, ?, ?)",
        (poll_id, query.from_user.id, option),
    )
    await db.commit()
    await query.answer(f"You voted: {OPTIONS[option]}")
    counts = await totals(db, poll_id)
    async with db.execute(
        "SELECT chat_id, message_id FROM poll_messages WHERE poll_id = ?", (poll_id,)
    ) as cursor:
        copies = list(await cursor.fetchall())
    for chat_id, message_id in copies:
        try:
            await context.bot.edit_message_text(
                poll_text(counts),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=poll_keyboard(poll_id, counts),
            )
        except TelegramError as error:
            # Not modified, flood control: the example logs it and carries on.
            context.bot_data["edit_errors"] = context.bot_data.get("edit_errors", 0) + 1
            context.bot_data["last_error"] = str(error)


def build_naive_application(
    token: str, base_url: str, db: aiosqlite.Connection, *, limited: bool = True
) -> NaiveApplication:
    """The bot as the examples build it; `limited=False` lifts AIORateLimiter's rates."""
    limiter = AIORateLimiter() if limited else AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    application: NaiveApplication = (
        ApplicationBuilder().token(token).base_url(base_url).rate_limiter(limiter).build()
    )
    application.bot_data["db"] = db
    application.add_handler(CallbackQueryHandler(vote, pattern=r"^vote:"))
    return application


async def post_poll(
    application: NaiveApplication, db: aiosqlite.Connection, poll_id: int, chat_ids: list[int]
) -> list[int]:
    """Send the poll to every chat and remember each copy; returns the message ids."""
    counts = await totals(db, poll_id)
    message_ids: list[int] = []
    for chat_id in chat_ids:
        while True:
            try:
                message = await application.bot.send_message(
                    chat_id, poll_text(counts), reply_markup=poll_keyboard(poll_id, counts)
                )
                break
            except RetryAfter as error:
                # Setting up, not measured: wait as told and post again.
                await asyncio.sleep(seconds_of(error.retry_after))
        await db.execute(
            "INSERT INTO poll_messages (poll_id, chat_id, message_id) VALUES (?, ?, ?)",
            (poll_id, chat_id, message.message_id),
        )
        await db.commit()
        message_ids.append(message.message_id)
    return message_ids


async def broadcast(
    application: NaiveApplication, db: aiosqlite.Connection, text: str
) -> tuple[int, int]:
    """Send `text` to every subscriber, one after another; returns (sent, failed)."""
    async with db.execute("SELECT chat_id FROM subscribers") as cursor:
        subscribers = await cursor.fetchall()
    sent = failed = 0
    for (chat_id,) in subscribers:
        try:
            await application.bot.send_message(chat_id, text)
            sent += 1
        except TelegramError:
            failed += 1
    return sent, failed
