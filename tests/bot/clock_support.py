"""Helpers for tests of readers' hours (digests, quiet hours): the emulator on a manual clock that
runs from the real time, the bot reading the time from that clock, the clock moved to a chosen
local moment, readers subscribed with their choices, and articles published just now.

The manual clock starts at the real time and runs with it (so Telegram's rate limits in the
emulator behave as ever), and what the bot stamps with the real time (subscriptions,
publications) happened "just now" on the test's clock too; a test jumps it forward by hours,
never back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from harness import BOT_TOKEN, RunningBot, make_settings
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import build_application
from bot.runtime.lifecycle import polling
from bot.services import BotServices
from emulator.clock import ManualClock
from emulator.simulation import Emulator, SimChat, SimUser
from storage import chats, deliveries, preferences
from storage.articles import mark_published
from storage.engine import Database
from storage.models import Article, ChatKind, DeliveryMode

_urls = itertools.count(1)


@asynccontextmanager
async def emulator_on_manual_clock() -> AsyncIterator[Emulator]:
    """An emulator (Telegram's default limits) whose clock starts now, runs with the real time
    and jumps forward when a test moves it."""
    # Never behind the real time: what the bot stamps now is never later than the clock's now.
    clock = ManualClock(unix_start=math.ceil(time.time()) + 1)
    async with Emulator(clock=clock) as emulator:
        ticking = asyncio.create_task(_keep_running(clock))
        try:
            yield emulator
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking


async def _keep_running(clock: ManualClock) -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        now = time.monotonic()
        clock.advance(now - last)
        last = now


def clock_of(emulator: Emulator) -> ManualClock:
    clock = emulator.clock
    assert isinstance(clock, ManualClock)
    return clock


def emulator_time(emulator: Emulator) -> Callable[[], datetime]:
    """The time as the emulator's clock says, for the bot to read."""
    clock = clock_of(emulator)
    return lambda: datetime.fromtimestamp(clock.unix(), UTC)


def move_clock_to(emulator: Emulator, moment: datetime) -> None:
    """Moves the emulator's (and so the bot's) clock forward to `moment`."""
    clock = clock_of(emulator)
    clock.advance(max(0.0, moment.timestamp() - clock.unix()))


def next_local(now: datetime, zone: str, hour: int, *, minute: int = 0) -> datetime:
    """The first local `hour:minute` in `zone` after `now`, in UTC."""
    local = now.astimezone(ZoneInfo(zone))
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= local:
        moment = (moment + timedelta(days=1)).replace(hour=hour, minute=minute)
    return moment.astimezone(UTC)


@asynccontextmanager
async def bot_on_emulator_clock(
    emulator: Emulator, database_url: str, **overrides: Any
) -> AsyncIterator[RunningBot]:
    """The bot (as in production) polling the emulator, reading the time from its clock; the
    bot and its admin Ada are registered here."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    settings = make_settings(emulator, database_url, {admin.id}).model_copy(update=overrides)
    db = Database.connect(settings.database_url)
    application = build_application(settings, db, clock=emulator_time(emulator))
    async with polling(application, poll_timeout=1):
        yield RunningBot(emulator, account, admin, settings, db, application)


def services(running_bot: RunningBot) -> BotServices:
    return running_bot.application.bot_data


async def reader_with_choices(
    running_bot: RunningBot,
    name: str,
    *,
    timezone: str | None = None,
    mode: DeliveryMode = DeliveryMode.INSTANT,
    hour: int | None = None,
    weekday: int | None = None,
    quiet: tuple[int, int] | None = None,
) -> tuple[SimUser, SimChat]:
    """A reader who started the bot and subscribed, with the choices /settings stores."""
    emulator = running_bot.emulator
    reader = emulator.create_user(name)
    chat = emulator.private_chat(reader)
    chat.started = True
    async with running_bot.db.transaction() as session:
        await chats.upsert_chat(session, chat_id=reader.id, kind=ChatKind.PRIVATE, title=name)
        await chats.subscribe_chat(session, chat_id=reader.id)
        await set_choices(
            session, reader.id, timezone=timezone, mode=mode, hour=hour, weekday=weekday
        )
        if quiet is not None:
            await preferences.set_quiet_hours(
                session, chat_id=reader.id, start=quiet[0], end=quiet[1]
            )
    return reader, chat


async def set_choices(
    session: AsyncSession,
    chat_id: int,
    *,
    timezone: str | None = None,
    mode: DeliveryMode = DeliveryMode.INSTANT,
    hour: int | None = None,
    weekday: int | None = None,
) -> None:
    """The chat's time zone and delivery, as /settings and /timezone store them."""
    await preferences.set_timezone(session, chat_id=chat_id, timezone=timezone)
    await preferences.set_delivery_mode(
        session, chat_id=chat_id, mode=mode, hour=hour, weekday=weekday
    )


async def publish_to_subscribers(running_bot: RunningBot, title: str) -> int:
    """An article published as /publish does: stored, queued for its audience, marked published
    in one transaction, and the delivery engine woken."""
    async with running_bot.db.transaction() as session:
        article = Article(
            canonical_url=f"https://news.example/story-{next(_urls)}",
            title=title,
            standfirst="What happened, in one line.",
        )
        session.add(article)
        await session.flush()
        assert article.id is not None
        await deliveries.queue_article(session, article_id=article.id)
        await mark_published(session, article_id=article.id)
    services(running_bot).wake_delivery()
    return article.id


async def publish_stored(
    db: Database,
    title: str,
    *,
    standfirst: str | None = None,
    sections: tuple[str, ...] = (),
    at: datetime | None = None,
) -> int:
    """An article stored and marked published (now, or `at`) without any card being queued:
    what the publishing path leaves behind for readers who take digests."""
    async with db.transaction() as session:
        article = Article(
            canonical_url=f"https://news.example/digest-{next(_urls)}",
            title=title,
            standfirst=standfirst,
            topics=list(sections),
        )
        session.add(article)
        await session.flush()
        assert article.id is not None
        await mark_published(session, article_id=article.id, at=at)
        return article.id


def minutes(clock_time: str) -> int:
    """Minutes after midnight of a clock time such as "22:30"."""
    hours, mins = clock_time.split(":")
    return int(hours) * 60 + int(mins)
