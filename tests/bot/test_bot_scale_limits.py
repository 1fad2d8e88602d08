"""Two workers on one database keep Telegram's limits together, through the emulator: a group
gets one message every three seconds and a private chat one a second whichever worker sends, a
worker that joins sends nothing until the one already sending has handed over its recent turns,
and a bot-wide 429 pauses both."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from harness import BOT_TOKEN, wait_until
from telegram import Bot
from telegram.ext import ExtBot

from bot.polls.book import PollBook
from bot.polls.content import PollContent
from bot.polls.live_totals import LiveTotals
from bot.runtime.workers import Workers
from bot.telegram.limiter import SendLimiter, SendRates
from bot.telegram.shared_pace import SharedPace
from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimChat
from emulator.state import Member
from storage import send_budget
from storage.engine import Database

RATES = SendRates(per_second=50)
# How much closer together two messages may be recorded than their turns were: a turn used up
# to 20 ms late, and the emulator sharing this event loop, which may take a request up late.
ARRIVAL_JITTER = 0.3


@dataclass
class Worker:
    """One worker process's parts: its engine, limiter, bot and place among the workers."""

    db: Database
    limiter: SendLimiter
    bot: ExtBot[None]
    workers: Workers


async def _worker(emulator: Emulator, database_url: str, name: str) -> Worker:
    db = Database.connect(database_url)
    limiter = SendLimiter(RATES)
    bot: ExtBot[None] = ExtBot(BOT_TOKEN, base_url=emulator.base_url, rate_limiter=limiter)
    await bot.initialize()
    book = PollBook(db)
    live_totals = LiveTotals(
        db=db, bot=Bot(BOT_TOKEN), book=book, content=PollContent(db), interval=3.0
    )
    workers = Workers(db, limiter=limiter, book=book, live_totals=live_totals, worker_id=name)
    return Worker(db, limiter, bot, workers)


@pytest.fixture(name="pair")
async def pair_fixture(
    emulator: Emulator, migrated_database_url: str
) -> AsyncIterator[list[Worker]]:
    """Two workers' parts on one migrated database, not started yet."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    pair = [await _worker(emulator, migrated_database_url, name) for name in ("first", "second")]
    yield pair
    for worker in pair:
        await worker.workers.stop()
        await worker.bot.shutdown()
        await worker.db.dispose()


async def _sharing(pair: list[Worker]) -> bool | None:
    return all(w.workers.may_send and w.limiter.shared for w in pair) or None


def _group(emulator: Emulator, title: str) -> SimChat:
    group = emulator.create_group(title, creator=emulator.create_user("Owner"))
    bot = next(iter(emulator.world.bots.values()))
    group.members[bot.id] = Member(bot.user, "member")
    return group


def _reader(emulator: Emulator, name: str) -> SimChat:
    chat = emulator.private_chat(emulator.create_user(name))
    chat.started = True
    return chat


def _arrivals(emulator: Emulator, chat: SimChat) -> list[float]:
    return [r.at for r in emulator.requests("sendMessage") if r.params.get("chat_id") == chat.id]


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_a_group_and_a_reader_are_paced_across_workers(
    emulator: Emulator, pair: list[Worker]
) -> None:
    """Eleven messages from each worker to one group and two to one reader, all at once: the
    group gets them three seconds apart (20 a minute), the reader a second apart, no 429."""
    for worker in pair:
        await worker.workers.start()
    await wait_until(lambda: _sharing(pair), what="both workers sharing the limits")
    group, reader = _group(emulator, "Newsroom"), _reader(emulator, "Ida")
    sends = [
        asyncio.create_task(worker.bot.send_message(chat.id, f"{chat.id} {n}"))
        for worker in pair
        for chat, count in ((group, 11), (reader, 2))
        for n in range(count)
    ]
    try:
        await emulator.wait_for(
            lambda: len(emulator.bot_messages(group)) >= 2, timeout=10, what="two group messages"
        )
        await emulator.wait_for(
            lambda: len(emulator.bot_messages(reader)) >= 3, timeout=10, what="three messages"
        )
    finally:
        for send in sends:
            send.cancel()
        await asyncio.gather(*sends, return_exceptions=True)

    assert emulator.count_errors(429) == 0
    assert min(_gaps(_arrivals(emulator, group))) >= 60 / 20 - ARRIVAL_JITTER
    assert min(_gaps(_arrivals(emulator, reader))) >= 1 - ARRIVAL_JITTER


async def test_a_joining_worker_waits_for_the_one_already_sending(
    emulator: Emulator, pair: list[Worker]
) -> None:
    """The second worker to start sends nothing until the first has moved its turns to the
    database, so the reader the first just wrote to hears from the second a second later."""
    first, second = pair
    reader = _reader(emulator, "Ida")
    await first.workers.start()
    assert not first.limiter.shared
    await first.bot.send_message(reader.id, "from the first, alone")
    await second.workers.start()
    assert not second.workers.may_send
    await second.bot.send_message(reader.id, "from the second")

    assert first.limiter.shared
    assert [m.text for m in emulator.bot_messages(reader)] == [
        "from the first, alone",
        "from the second",
    ]
    assert min(_gaps(_arrivals(emulator, reader))) >= 1 - ARRIVAL_JITTER


async def test_what_a_worker_sent_alone_is_handed_over(
    emulator: Emulator, pair: list[Worker]
) -> None:
    """Moving its turns to the database, a worker holds there what it sent alone: the group
    that just had 20 messages waits out its minute, the reader one second."""
    first = pair[0]
    group, reader = _group(emulator, "Newsroom"), _reader(emulator, "Ida")
    for n in range(20):
        await first.bot.send_message(group.id, f"news {n}")
    await first.bot.send_message(reader.id, "hello")
    pace = SharedPace(first.db, per_second=RATES.per_second, paid_per_second=100)
    async with first.db.transaction() as session:
        await first.limiter.share(session, pace)
    async with first.db.transaction() as session:
        found = await send_budget.holds(session, within=0)

    assert len(emulator.bot_messages(group)) == 20
    assert 59 < found.chats[str(group.id)] - found.now <= 60
    assert 0 < found.chats[str(reader.id)] - found.now <= 1


async def test_a_bot_wide_429_pauses_every_worker(emulator: Emulator, pair: list[Worker]) -> None:
    """When Telegram refuses the first worker bot-wide, the second waits out the same pause
    instead of running into the refusal too; every message still arrives."""
    for worker in pair:
        await worker.workers.start()
    await wait_until(lambda: _sharing(pair), what="both workers sharing the limits")
    # Telegram allows 2 a second here; the limiters think 50.
    emulator.limits = RateLimits(bot_per_second=2)
    first, second = pair
    groups = [_group(emulator, f"Desk {n}") for n in range(4)]
    sends = [asyncio.create_task(first.bot.send_message(g.id, "first")) for g in groups[:3]]
    await wait_until(lambda: _lanes_held(first.db), what="the pause in the database")
    await second.bot.send_message(groups[3].id, "second")
    await asyncio.gather(*sends)

    assert emulator.count_errors(429) == 1
    assert all(emulator.bot_messages(group) for group in groups)


async def _lanes_held(db: Database) -> bool | None:
    async with db.transaction() as session:
        found = await send_budget.holds(session, within=0)
    # Further ahead than the two blocks a worker may hold.
    return found.lanes.get("bot", 0) > found.now + 0.6 or None
