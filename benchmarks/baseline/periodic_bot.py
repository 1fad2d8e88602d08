"""The periodic baseline bot: the pattern of the most used open-source inline poll bot.

Written as a careful python-telegram-bot user would write that pattern: an `Application` behind
`AIORateLimiter()` (its defaults), updates one at a time (the default), the votes in SQLite
through the bot's own engine (`storage.engine.Database`, SQLModel on aiosqlite) in tables of its
own, one vote per reader per poll (tap again to take it back, another option to change it). A
tap is committed, answered, and the tapped copy edited at once; a repeating job edits every
other copy whose totals changed, every `period` seconds. Its broadcast reads the subscribers and
sends in a loop, waiting as told when Telegram answers 429.

    python -m benchmarks.baseline periodic-bot --base-url URL --database-url URL
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot, Message, Update
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
)

from benchmarks.baseline.naive_bot import OPTIONS, poll_keyboard, poll_text
from storage.engine import Database

log = logging.getLogger(__name__)

PeriodicApplication = Application[Any, Any, Any, Any, Any, Any]

# The pattern's own refresh period for the copies nobody just tapped.
REFRESH_SECONDS = 10.0
VOTE_DATA = re.compile(r"^vote:(\d+):(\d+)$")
NOT_VALID = "This button is no longer valid."
VOTE_REMOVED = "Vote removed"


class PeriodicTable(SQLModel, registry=registry()):
    """Its own metadata: these tables never join the bot's schema."""


class PeriodicVote(PeriodicTable, table=True):
    """One reader's choice in one poll."""

    __tablename__ = "periodic_votes"

    poll_id: int = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    option: int


class PeriodicCopy(PeriodicTable, table=True):
    """One message showing a poll, and the totals it shows (``"3,1,0"``)."""

    __tablename__ = "periodic_copies"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(index=True)
    chat_id: int
    message_id: int
    shown: str = ""


class PeriodicSubscriber(PeriodicTable, table=True):
    """A chat that gets broadcasts."""

    __tablename__ = "periodic_subscribers"

    chat_id: int = Field(primary_key=True)


def seconds_of(retry_after: float | timedelta) -> float:
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


def shown_text(counts: Sequence[int]) -> str:
    return ",".join(str(count) for count in counts)


async def create_tables(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(PeriodicTable.metadata.create_all)


async def totals(session: AsyncSession, poll_id: int) -> list[int]:
    counts = [0] * len(OPTIONS)
    rows = await session.exec(
        select(PeriodicVote.option, func.count())
        .where(PeriodicVote.poll_id == poll_id)
        .group_by(col(PeriodicVote.option))
    )
    for option, count in rows:
        counts[option] = count
    return counts


async def _store_vote(session: AsyncSession, poll_id: int, user_id: int, option: int) -> str:
    """The reader's tap stored; returns the toast that says what became of it."""
    current = await session.get(PeriodicVote, (poll_id, user_id))
    if current is None:
        session.add(PeriodicVote(poll_id=poll_id, user_id=user_id, option=option))
        return f"You voted: {OPTIONS[option]}"
    if current.option == option:
        await session.delete(current)
        return VOTE_REMOVED
    current.option = option
    return f"Vote changed to {OPTIONS[option]}"


async def _mark_shown(db: Database, shown: dict[int, str], gone: Sequence[int] = ()) -> None:
    """Remember what each edited copy shows now, and forget the copies that are gone."""
    if not shown and not gone:
        return
    async with db.transaction() as session:
        for copy_id, text in shown.items():
            copy = await session.get(PeriodicCopy, copy_id)
            if copy is not None:
                copy.shown = text
        if gone:
            await session.exec(delete(PeriodicCopy).where(col(PeriodicCopy.id).in_(gone)))


@dataclass
class EditOutcome:
    """What one edit of a copy came to: shown now, gone for good, or to be tried again."""

    shown: bool = False
    gone: bool = False


async def _edit_copy(bot: Bot, copy: PeriodicCopy, counts: Sequence[int]) -> EditOutcome:
    try:
        await bot.edit_message_text(
            poll_text(counts),
            chat_id=copy.chat_id,
            message_id=copy.message_id,
            reply_markup=poll_keyboard(copy.poll_id, counts),
        )
    except RetryAfter as error:
        # Flood control: the next round tries again.
        log.warning("copy %s/%s not refreshed: %s", copy.chat_id, copy.message_id, error)
        return EditOutcome()
    except BadRequest as error:
        said = str(error).lower()
        if "not modified" in said:
            return EditOutcome(shown=True)
        if "not found" in said:
            return EditOutcome(gone=True)
        log.warning("copy %s/%s not refreshed: %s", copy.chat_id, copy.message_id, error)
        return EditOutcome()
    except TelegramError as error:
        log.warning("copy %s/%s not refreshed: %s", copy.chat_id, copy.message_id, error)
        return EditOutcome()
    return EditOutcome(shown=True)


class PeriodicPollBot:
    """The vote handler and the refresh job, sharing the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def vote(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One tap: commit it, answer it, edit the copy that was tapped."""
        if (query := update.callback_query) is None:
            return
        match = VOTE_DATA.match(query.data or "")
        if match is None or int(match[2]) >= len(OPTIONS):
            await query.answer(NOT_VALID)
            return
        poll_id, option = int(match[1]), int(match[2])
        message = query.message
        async with self.db.transaction() as session:
            toast = await _store_vote(session, poll_id, query.from_user.id, option)
            await session.flush()
            counts = await totals(session, poll_id)
            tapped = None
            if isinstance(message, Message):
                found = await session.exec(
                    select(PeriodicCopy).where(
                        PeriodicCopy.chat_id == message.chat.id,
                        PeriodicCopy.message_id == message.message_id,
                    )
                )
                tapped = found.first()
        try:
            await query.answer(toast)
        except TelegramError as error:
            # The vote is stored; a late answer must not keep the copy from showing it.
            log.warning("tap of user %s not answered: %s", query.from_user.id, error)
        if tapped is None:
            return
        outcome = await _edit_copy(context.bot, tapped, counts)
        if tapped.id is not None and (outcome.shown or outcome.gone):
            shown = {tapped.id: shown_text(counts)} if outcome.shown else {}
            await _mark_shown(self.db, shown, [tapped.id] if outcome.gone else [])

    async def refresh(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The repeating job: every copy whose totals changed since it was edited, edited."""
        async with self.db.transaction() as session:
            copies = list((await session.exec(select(PeriodicCopy))).all())
            counts = {
                poll_id: await totals(session, poll_id)
                for poll_id in {copy.poll_id for copy in copies}
            }
        stale = [copy for copy in copies if copy.shown != shown_text(counts[copy.poll_id])]
        # AIORateLimiter paces them: the edits go at once and wait their turn inside it.
        outcomes = await asyncio.gather(
            *(_edit_copy(context.bot, copy, counts[copy.poll_id]) for copy in stale)
        )
        shown = {
            copy.id: shown_text(counts[copy.poll_id])
            for copy, outcome in zip(stale, outcomes, strict=True)
            if outcome.shown and copy.id is not None
        }
        gone = [
            copy.id
            for copy, outcome in zip(stale, outcomes, strict=True)
            if outcome.gone and copy.id is not None
        ]
        await _mark_shown(self.db, shown, gone)


def build_periodic_application(
    token: str,
    base_url: str,
    db: Database,
    *,
    period: float = REFRESH_SECONDS,
    limited: bool = True,
) -> PeriodicApplication:
    """The bot as that pattern builds it; `limited=False` lifts AIORateLimiter's rates."""
    limiter = AIORateLimiter() if limited else AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    application: PeriodicApplication = (
        ApplicationBuilder().token(token).base_url(base_url).rate_limiter(limiter).build()
    )
    poll_bot = PeriodicPollBot(db)
    application.add_handler(CallbackQueryHandler(poll_bot.vote, pattern=r"^vote:"))
    if application.job_queue is None:
        raise RuntimeError('the refresh job needs "python-telegram-bot[job-queue]"')
    application.job_queue.run_repeating(poll_bot.refresh, interval=period, first=period)
    return application


async def post_poll(bot: Bot, db: Database, poll_id: int, chat_ids: Sequence[int]) -> list[int]:
    """Send the poll to every chat and remember each copy; returns the message ids."""
    async with db.transaction() as session:
        counts = await totals(session, poll_id)
    message_ids: list[int] = []
    for chat_id in chat_ids:
        while True:
            try:
                message = await bot.send_message(
                    chat_id, poll_text(counts), reply_markup=poll_keyboard(poll_id, counts)
                )
                break
            except RetryAfter as error:
                await asyncio.sleep(seconds_of(error.retry_after))
        async with db.transaction() as session:
            session.add(
                PeriodicCopy(
                    poll_id=poll_id,
                    chat_id=chat_id,
                    message_id=message.message_id,
                    shown=shown_text(counts),
                )
            )
        message_ids.append(message.message_id)
    return message_ids


async def add_subscribers(db: Database, chat_ids: Sequence[int]) -> None:
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(insert(PeriodicSubscriber), [{"chat_id": c} for c in chat_ids])


@dataclass
class BroadcastReport:
    sent: int = 0
    failed: int = 0
    retry_after_seen: int = 0


async def _send(bot: Bot, chat_id: int, text: str, report: BroadcastReport) -> None:
    """One subscriber's message; flood control is waited out and the send tried again."""
    while True:
        try:
            await bot.send_message(chat_id, text)
        except RetryAfter as error:
            report.retry_after_seen += 1
            await asyncio.sleep(seconds_of(error.retry_after))
        except TelegramError as error:
            log.warning("broadcast to %s failed: %s", chat_id, error)
            report.failed += 1
            return
        else:
            report.sent += 1
            return


async def broadcast(
    bot: Bot, db: Database, text: str, *, window: float | None = None
) -> BroadcastReport:
    """Send `text` to every subscriber, one after another; stops after `window` seconds if
    given."""
    async with db.transaction() as session:
        subscribers = list((await session.exec(select(PeriodicSubscriber.chat_id))).all())
    report = BroadcastReport()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for chat_id in subscribers:
        if window is not None and loop.time() - started >= window:
            break
        await _send(bot, chat_id, text, report)
    return report


def serve(token: str, base_url: str, database_url: str, *, period: float) -> None:
    """Long-poll until SIGTERM, as `application.run_polling()` does for such a bot."""
    db = Database.connect(database_url)
    application = build_periodic_application(token, base_url, db, period=period)

    async def prepare(_: PeriodicApplication) -> None:
        await create_tables(db)

    async def close(_: PeriodicApplication) -> None:
        await db.dispose()

    application.post_init = prepare
    application.post_shutdown = close
    application.run_polling(allowed_updates=[Update.CALLBACK_QUERY])
