"""Daily and weekly digests through the emulator: one message per reader and period at their
local hour, nothing when nothing is new, exactly once whoever runs the job and across a restart,
split cleanly when long, in a forum's topic, and resumed at the part a failure interrupted.

The emulator's manual clock (which the bot reads) is moved to the readers' digest hours.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from clock_support import (
    bot_on_emulator_clock,
    emulator_on_manual_clock,
    emulator_time,
    move_clock_to,
    next_local,
    publish_stored,
    reader_with_choices,
    services,
    set_choices,
)
from harness import (
    BOT_TOKEN,
    RunningBot,
    bot_env,
    quicken_private_chats,
    start_logged_bot,
    wait_until,
)
from sqlmodel import col, select

from bot.articles.card import TEXT_MAX
from bot.digests.message import digest_messages, digest_title
from emulator.simulation import Emulator, SimChat, SimMessage
from emulator.state import Member
from storage import chats, forum_topics, polls
from storage.digests import DigestArticle
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import ChatKind, Delivery, DeliveryMode, DeliveryStatus, Digest

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"
# The job makes a period's digest a minute after its due time: moved this far past it.
PAST_DUE = timedelta(minutes=2)
BOT_LINK = "https://t.me/newsdesk_bot?start=a_"


@pytest.fixture(name="manual_emulator")
async def manual_emulator_fixture() -> AsyncIterator[Emulator]:
    """The emulator on a manual clock that runs from now and jumps when the test moves it."""
    async with emulator_on_manual_clock() as emulator:
        yield emulator


@pytest.fixture(name="running")
async def running_fixture(
    manual_emulator: Emulator, database_url: str
) -> AsyncIterator[RunningBot]:
    """The bot reading the time from the emulator's clock (its TIMEZONE is UTC); private chats
    paced quicker (these tests check what digests say and when by the clock, not their pace)."""
    async with bot_on_emulator_clock(manual_emulator, database_url) as running:
        quicken_private_chats(running)
        yield running


def _digests_in(emulator: Emulator, chat: SimChat) -> list[SimMessage]:
    return [m for m in emulator.bot_messages(chat) if "digest ·" in (m.text or "")]


async def _wait_digests(emulator: Emulator, chat: SimChat, count: int) -> list[SimMessage]:
    return await emulator.wait_for(
        lambda: found if len(found := _digests_in(emulator, chat)) >= count else None,
        timeout=15,
        what=f"{count} digest messages",
    )


async def _stored_digests(db: Database) -> list[Digest]:
    async with db.transaction() as session:
        return list((await session.exec(select(Digest).order_by(col(Digest.id)))).all())


async def _digest_rows_settled(db: Database) -> bool:
    """Every digest's ledger row has its outcome recorded."""
    async with db.transaction() as session:
        rows = await session.exec(select(Delivery).where(col(Delivery.digest_id).is_not(None)))
        return all(row.status is DeliveryStatus.SENT for row in rows.all())


def _links(message: SimMessage) -> list[int]:
    return [int(found) for found in re.findall(re.escape(BOT_LINK) + r"(\d+)", message.html)]


def _local_title(due: datetime, zone: str) -> str:
    return digest_title(due.astimezone(ZoneInfo(zone)).date().isoformat())


async def test_a_daily_digest_arrives_once_at_each_readers_local_hour(
    manual_emulator: Emulator, running: RunningBot
) -> None:
    """Readers in Berlin and New York who chose a daily digest at 08:00 each get one message at
    08:00 their time listing the new article (headline, standfirst, deep link); running the job
    again sends nothing more, the next morning with nothing new sends nothing, and the link
    opens the full card with its live poll."""
    emu = manual_emulator
    bea, bea_chat = await reader_with_choices(
        running, "Bea", timezone=BERLIN, mode=DeliveryMode.DAILY, hour=8
    )
    ned, ned_chat = await reader_with_choices(
        running, "Ned", timezone=NEW_YORK, mode=DeliveryMode.DAILY, hour=8
    )
    article_id = await publish_stored(
        running.db, "Harbour reopens after the storm", standfirst="Ferries run from Monday."
    )
    async with running.db.transaction() as session:
        await polls.create_poll(
            session,
            article_id=article_id,
            question="Will you take the ferry?",
            options=["Yes", "No"],
        )
    now = emulator_time(emu)()
    dues = {bea.id: next_local(now, BERLIN, 8), ned.id: next_local(now, NEW_YORK, 8)}
    readers = {bea.id: (bea_chat, BERLIN), ned.id: (ned_chat, NEW_YORK)}
    job = services(running).digests

    for count, reader_id in enumerate(sorted(dues, key=dues.__getitem__), start=1):
        move_clock_to(emu, dues[reader_id] + PAST_DUE)
        assert await job.run_due() == 1
        assert await job.run_due() == 0
        chat, zone = readers[reader_id]
        [digest] = await _wait_digests(emu, chat, 1)
        assert digest.text is not None
        assert digest.text.startswith(_local_title(dues[reader_id], zone))
        assert "Harbour reopens after the storm\nFerries run from Monday." in digest.text
        assert _links(digest) == [article_id]
        assert len(await _stored_digests(running.db)) == count
    assert [len(_digests_in(emu, chat)) for chat in (bea_chat, ned_chat)] == [1, 1]

    move_clock_to(emu, max(dues.values()) + timedelta(days=1) + PAST_DUE)
    assert await job.run_due() == 0
    assert len(await _stored_digests(running.db)) == 2

    opened = await emu.send_message(ned, f"/start a_{article_id}")
    card = await emu.wait_for_bot_message(ned_chat, after=opened.message_id)
    assert "Harbour reopens after the storm" in (card.text or "")
    assert "Will you take the ferry?" in (card.text or "")
    assert [button["text"] for row in card.buttons for button in row][:2] == ["Yes · 0", "No · 0"]
    assert [len(_digests_in(emu, chat)) for chat in (bea_chat, ned_chat)] == [1, 1]


async def test_a_weekly_digest_comes_on_its_day_and_hour(
    manual_emulator: Emulator, running: RunningBot
) -> None:
    """A reader in Tokyo with a weekly digest on Fridays at 09:00 gets nothing on Thursday, the
    week's digest on Friday at 09:00, and nothing more the next day."""
    emu = manual_emulator
    _, chat = await reader_with_choices(
        running, "Toru", timezone=TOKYO, mode=DeliveryMode.WEEKLY, hour=9, weekday=4
    )
    first = await publish_stored(running.db, "Rail strike called off", standfirst="Trains run.")
    second = await publish_stored(running.db, "New bridge opens", standfirst="Traffic eases.")
    due = next_local(emulator_time(emu)(), TOKYO, 9)
    while due.astimezone(ZoneInfo(TOKYO)).weekday() != 4:
        due += timedelta(days=1)
    job = services(running).digests

    move_clock_to(emu, due - timedelta(days=1) + PAST_DUE)
    assert await job.run_due() == 0
    move_clock_to(emu, due + PAST_DUE)
    assert await job.run_due() == 1
    [digest] = await _wait_digests(emu, chat, 1)
    move_clock_to(emu, due + timedelta(days=1) + PAST_DUE)
    assert await job.run_due() == 0

    monday = due.astimezone(ZoneInfo(TOKYO)).date() - timedelta(days=4)
    assert (digest.text or "").startswith(
        f"Your weekly digest · week of {monday.day} {monday:%B %Y}"
    )
    assert _links(digest) == [first, second]
    [stored] = await _stored_digests(running.db)
    year, week, _ = monday.isocalendar()
    assert stored.period == f"{year}-W{week:02d}"


def _long_articles(count: int) -> list[tuple[str, str]]:
    return [
        (
            f"Story {n}: " + "council weighs the harbour plan and its costs " * 4,
            f"Standfirst {n}. " + "Residents and traders argue over the details. " * 8,
        )
        for n in range(count)
    ]


async def _long_digest_due(emulator: Emulator, running: RunningBot) -> tuple[SimChat, list[int]]:
    """A Berlin reader with a daily 07:00 digest, thirty long articles for it, and the clock at
    07:00 with the digest made; the chat and the articles' ids."""
    _, chat = await reader_with_choices(
        running, "Lena", timezone=BERLIN, mode=DeliveryMode.DAILY, hour=7
    )
    ids = [
        await publish_stored(running.db, title, standfirst=standfirst)
        for title, standfirst in _long_articles(30)
    ]
    move_clock_to(emulator, next_local(emulator_time(emulator)(), BERLIN, 7) + PAST_DUE)
    assert await services(running).digests.run_due() == 1
    return chat, ids


def _part_count(ids: list[int]) -> int:
    listed = [DigestArticle(i, t, s) for i, (t, s) in zip(ids, _long_articles(30), strict=True)]
    return len(digest_messages(listed, period="2026-12-03", bot_username="newsdesk_bot"))


def _headers(parts: list[SimMessage]) -> list[str]:
    return [(part.text or "").split("\n", 1)[0] for part in parts]


async def test_a_long_digest_is_split_cleanly_between_articles(
    manual_emulator: Emulator, running: RunningBot
) -> None:
    """Thirty long articles make a digest of several messages, each within Telegram's length
    limit and numbered; every article appears once, whole (headline, standfirst and link in
    one message), in publishing order."""
    emu = manual_emulator
    chat, ids = await _long_digest_due(emu, running)
    total = _part_count(ids)

    await _wait_digests(emu, chat, total)
    await wait_until(lambda: _digest_rows_settled(running.db), timeout=15, what="the record")

    parts = _digests_in(emu, chat)
    assert total >= 3
    assert len(parts) == total
    assert all(len(part.text or "") <= TEXT_MAX for part in parts)
    assert [header[-len(f"({n}/{total})") :] for n, header in enumerate(_headers(parts), 1)] == [
        f"({n}/{total})" for n in range(1, total + 1)
    ]
    assert [article for part in parts for article in _links(part)] == ids
    for part in parts:
        for article in _links(part):
            n = ids.index(article)
            assert f"Story {n}: council" in (part.text or "")
            assert f"Standfirst {n}. Residents" in (part.text or "")


async def test_a_failure_between_parts_resumes_at_the_part_that_failed(
    manual_emulator: Emulator, running: RunningBot
) -> None:
    """When Telegram fails the second message of a digest (a 502), the row is retried and the
    digest goes on from its second message: every part arrives exactly once, in order."""
    emu = manual_emulator
    chat, ids = await _long_digest_due(emu, running)
    total = _part_count(ids)

    await _wait_digests(emu, chat, 1)
    # The bot sends to one private chat at most once a second: the next part is still to come.
    emu.inject_faults(502, methods={"sendmessage"}, count=1)
    await emu.wait_for(lambda: emu.faults_injected == 1 or None, timeout=10, what="the 502")
    await _wait_digests(emu, chat, total)
    await wait_until(lambda: _digest_rows_settled(running.db), timeout=15, what="the record")

    parts = _digests_in(emu, chat)
    assert [header[-len(f"({n}/{total})") :] for n, header in enumerate(_headers(parts), 1)] == [
        f"({n}/{total})" for n in range(1, total + 1)
    ]
    assert [article for part in parts for article in _links(part)] == ids


async def test_a_forum_topics_digest_lands_in_the_topic(
    manual_emulator: Emulator, running: RunningBot
) -> None:
    """A forum whose "News" topic subscribed and whose admins chose a daily digest gets the
    digest inside that topic."""
    emu = manual_emulator
    owner = emu.create_user("Olga")
    forum = emu.create_forum("Harbour town", creator=owner)
    forum.members[running.account.id] = Member(running.account.user, "member")
    topic = emu.create_topic(forum, "News", by=owner)
    async with running.db.transaction() as session:
        await chats.upsert_chat(
            session, chat_id=forum.id, kind=ChatKind.SUPERGROUP, title="Harbour town"
        )
        await forum_topics.subscribe_topic(
            session, chat_id=forum.id, thread_id=topic.thread_id, title="News"
        )
        await set_choices(session, forum.id, timezone=BERLIN, mode=DeliveryMode.DAILY, hour=8)
    article_id = await publish_stored(running.db, "Market day moves", standfirst="To Sunday.")
    move_clock_to(emu, next_local(emulator_time(emu)(), BERLIN, 8) + PAST_DUE)

    assert await services(running).digests.run_due() == 1

    [digest] = await _wait_digests(emu, forum, 1)
    assert digest.thread_id == topic.thread_id
    assert _links(digest) == [article_id]
    assert digest in emu.topic_messages(forum, topic)


async def _digest_reader(
    emulator: Emulator, db: Database, name: str, *, hour: int, subscribed_at: datetime
) -> SimChat:
    """A reader with a daily digest at `hour` UTC, subscribed since `subscribed_at`."""
    reader = emulator.create_user(name)
    chat = emulator.private_chat(reader)
    chat.started = True
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=reader.id, kind=ChatKind.PRIVATE, title=name)
        await chats.subscribe_chat(session, chat_id=reader.id)
        await set_choices(session, reader.id, timezone="UTC", mode=DeliveryMode.DAILY, hour=hour)
        stored = await chats.get_chat(session, chat_id=reader.id)
        assert stored is not None
        stored.subscribed_at = subscribed_at
        session.add(stored)
    return chat


async def _bot_process(
    emulator: Emulator, database_url: str, workdir: Path
) -> asyncio.subprocess.Process:
    env = bot_env(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        PTB_TIMEDELTA="1",
    )
    return await start_logged_bot(workdir, env)


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await process.wait()


@pytest.mark.slow
async def test_a_digest_is_sent_once_across_a_restart_of_the_bot(
    emulator: Emulator, database_url: str, tmp_path: Path
) -> None:
    """`python -m bot run` sends a digest that came due while it was down; stopped and started
    again, it makes another reader's digest of the same hour but never the first one's again."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    due = (datetime.now(UTC) - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    db = Database.connect(database_url)
    await upgrade(db)
    pia = await _digest_reader(
        emulator, db, "Pia", hour=due.hour, subscribed_at=due - timedelta(hours=3)
    )
    article_id = await publish_stored(db, "Harbour reopens", at=due - timedelta(minutes=30))

    first = await _bot_process(emulator, database_url, tmp_path)
    try:
        await _wait_digests(emulator, pia, 1)
        await wait_until(lambda: _digest_rows_settled(db), timeout=15, what="the record")
    finally:
        await _stop(first)
    # Joined while the bot was down: its digest shows the restarted bot's job has run.
    quinn = await _digest_reader(
        emulator, db, "Quinn", hour=due.hour, subscribed_at=due - timedelta(hours=2)
    )
    second = await _bot_process(emulator, database_url, tmp_path)
    try:
        await _wait_digests(emulator, quinn, 1)
        await wait_until(lambda: _digest_rows_settled(db), timeout=15, what="the record")
    finally:
        await _stop(second)

    stored = await _stored_digests(db)
    await db.dispose()
    assert [len(_digests_in(emulator, chat)) for chat in (pia, quinn)] == [1, 1]
    assert [_links(_digests_in(emulator, chat)[0]) for chat in (pia, quinn)] == [
        [article_id],
        [article_id],
    ]
    assert sorted((d.chat_id, d.period) for d in stored) == sorted(
        (chat.id, due.date().isoformat()) for chat in (pia, quinn)
    )
