"""Three `python -m bot run --webhook` processes on one port and one PostgreSQL database share a
fan-out and a burst of votes: every reader gets the card once, and every copy of the card
converges on the stored totals. The second and third workers start while the first is sending,
and Telegram's limits hold across all three together: the emulator's record of every call shows
no 429, never more than the configured rate in a second, and no private chat two messages less
than a second apart (readers who write to the bot right after their card arrives included),
give or take the network's jitter."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from delivery_world import subscribe_group, subscribe_readers
from harness import BOT_TOKEN, bot_env, wait_until
from polls_support import create_article_poll, expected_content, shows
from sqlmodel import col, select

from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from emulator.state import RecordedRequest
from storage import articles, deliveries, leases, polls
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Delivery

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="several workers need PostgreSQL: set TEST_DATABASE_URL (make test's second pass)",
    ),
]

WORKERS = 3
READERS = 160
VOTERS = 40
# Every fourth reader writes /help as soon as the card arrives, which a worker other than the
# card's sender may well answer.
HELP_SEEKERS = slice(None, None, 4)
SECRET = "scale-test-secret_0123456789abcdefghij"
# Low enough that a second worker joining at its own share of the rate, before the others have
# made room for it, would stand out in the emulator's record.
SEND_RATE = 20
# Seconds between the second and the third worker's start: two joins during the fan-out.
JOIN_STAGGER = 0.5
# `python -m bot run --webhook`, run once the test writes a line: the interpreter and the bot's
# modules load beforehand, so a worker joins the others when the test says, not seconds later.
_ON_CUE = (
    "import sys; from bot.cli import main; sys.stdin.readline(); "
    "sys.exit(main(['run', '--webhook']))"
)
# How much closer together calls may be recorded than their turns were: a turn used up to one
# turn's length late (a twentieth of a second here), the HTTP round trips' jitter, and the
# emulator sharing this test's event loop. The old 1/N shares of the rate, overlapping while a
# worker joined, squeezed 21 calls into half a second.
ARRIVAL_JITTER = 0.2
GROUP_PER_MINUTE = 20
_LIMITED_PREFIXES = ("send", "copy", "forward", "edit")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _worker_env(
    emulator: Emulator, database_url: str, admin: SimUser, port: int
) -> dict[str, str]:
    return bot_env(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        ADMIN_IDS=str(admin.id),
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/updates",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        # Together, however many workers are alive.
        SEND_RATE_PER_SECOND=str(SEND_RATE),
        POLL_EDIT_INTERVAL="1",
        LOG_LEVEL="INFO",
        PTB_TIMEDELTA="1",
    )


async def _live_workers(db: Database, count: int) -> int | None:
    async with db.transaction() as session:
        live = len(await leases.live_workers(session))
    return live if live == count else None


async def _spawn_worker(
    env: dict[str, str], folder: Path, number: int
) -> asyncio.subprocess.Process:
    with (folder / f"worker-{number}.log").open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _ON_CUE,
            env=env,
            # Not the repository root: no .env there is read by accident.
            cwd=folder,
            stdin=asyncio.subprocess.PIPE,
            stdout=output,
            stderr=output,
        )


async def _stop(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.terminate()
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


def _read_logs(folder: Path) -> str:
    return "".join(log.read_text() for log in sorted(folder.glob("worker-*.log")))


def _cards(emulator: Emulator, reader: SimUser) -> list[SimMessage]:
    return [m for m in emulator.bot_messages(emulator.private_chat(reader)) if m.reply_markup]


def _every_card(emulator: Emulator, cluster: Cluster) -> list[SimMessage]:
    """The first card in every reader's chat and in the group."""
    group_cards = [m for m in emulator.bot_messages(cluster.group) if m.reply_markup]
    return [_cards(emulator, reader)[0] for reader in cluster.readers] + group_cards[:1]


@dataclass
class Cluster:
    """The database with its subscribed readers and group, and three worker processes waiting
    for their cue to start."""

    db: Database
    readers: list[SimUser]
    group: SimChat
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def start_worker(self, number: int) -> None:
        cue = self.processes[number].stdin
        assert cue is not None
        cue.write(b"start\n")
        await cue.drain()


@pytest.fixture(name="cluster")
async def cluster_fixture(
    emulator: Emulator, database_url: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    """A migrated database with 160 subscribed readers and a subscribed group, and three
    webhook workers on one port that start when the test says."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    # Telegram allows the bot exactly the rate the workers are configured for.
    emulator.limits = RateLimits(bot_per_second=SEND_RATE)
    admin = emulator.create_user("Ada")
    db = Database.connect(database_url)
    # Migrations run once, before the workers start (as docs/DEPLOY.md says).
    await upgrade(db)
    readers = await subscribe_readers(emulator, db, READERS)
    group = await subscribe_group(emulator, db, admin, "Newsroom")
    env = _worker_env(emulator, database_url, admin, _free_port())
    cluster = Cluster(db, readers, group)
    try:
        for number in range(WORKERS):
            cluster.processes.append(await _spawn_worker(env, tmp_path, number))
        yield cluster
    finally:
        await _stop(cluster.processes)
        await db.dispose()
        logs = _read_logs(tmp_path)
        assert "Traceback" not in logs, logs[-4000:]


async def _ask_for_help_on_card(emulator: Emulator, reader: SimUser) -> None:
    """The reader writes /help the moment the card arrives and waits for the answer."""
    await emulator.wait_for(lambda: _cards(emulator, reader), timeout=60, what="the card")
    chat = emulator.private_chat(reader)
    sent = await emulator.send_message(reader, "/help")
    await emulator.wait_for_bot_message(chat, after=sent.message_id, timeout=60)


def _limited_calls(emulator: Emulator) -> list[RecordedRequest]:
    """Every call Telegram counts toward a rate: sends and edits, in arrival order."""
    return sorted(
        (r for r in emulator.requests() if r.method.startswith(_LIMITED_PREFIXES)),
        key=lambda r: r.at,
    )


def _tightest(times: Sequence[float], count: int) -> float:
    """The shortest time `count` consecutive calls took to arrive (inf when fewer came)."""
    spans = [times[n + count - 1] - times[n] for n in range(len(times) - count + 1)]
    return min(spans, default=math.inf)


def _arrivals_per_chat(calls: list[RecordedRequest]) -> dict[int, list[float]]:
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        if isinstance(chat_id := call.params.get("chat_id"), int):
            per_chat[chat_id].append(call.at)
    return per_chat


async def test_three_workers_share_a_fanout_and_a_vote_burst(
    emulator: Emulator, cluster: Cluster
) -> None:
    """Every reader gets the card exactly once, more than one worker claims the fan-out, after
    a burst of votes every copy shows the stored totals, and the emulator saw the limits kept
    by all workers together, while two of them joined in the middle of the fan-out."""
    db, readers = cluster.db, cluster.readers
    await cluster.start_worker(0)
    await wait_until(lambda: _live_workers(db, 1), timeout=30, what="the first worker")
    poll_id = await create_article_poll(db)
    async with db.transaction() as session:
        record = await polls.poll_record(session, poll_id=poll_id)
        assert record is not None
        assert record.article_id is not None
        article_id = record.article_id
        assert await deliveries.queue_article(session, article_id=article_id) == READERS + 1
        await articles.mark_published(session, article_id=article_id)
    help_seekers = [
        asyncio.create_task(_ask_for_help_on_card(emulator, reader))
        for reader in readers[HELP_SEEKERS]
    ]
    await emulator.wait_for(
        lambda: any(_cards(emulator, reader) for reader in readers),
        timeout=30,
        what="the fan-out to start",
    )
    await cluster.start_worker(1)
    await asyncio.sleep(JOIN_STAGGER)
    await cluster.start_worker(2)
    await wait_until(lambda: _live_workers(db, WORKERS), timeout=30, what="three live workers")

    await emulator.wait_for(
        lambda: all(_cards(emulator, reader) for reader in readers),
        timeout=60,
        what="every reader to get the card",
    )
    await asyncio.gather(*help_seekers)
    await asyncio.gather(
        *(
            emulator.press_button(reader, _cards(emulator, reader)[0], timeout=30)
            for reader in readers[:VOTERS]
        )
    )
    final = await expected_content(db, poll_id)
    assert f"Total votes: {VOTERS}" in final.text_html
    await emulator.wait_for(
        lambda: all(shows(card, final) for card in _every_card(emulator, cluster)),
        timeout=60,
        what="every copy to show the stored totals",
    )

    assert all(len(_cards(emulator, reader)) == 1 for reader in readers)
    assert len([m for m in emulator.bot_messages(cluster.group) if m.reply_markup]) == 1
    # Claims do not depend on which worker the updates reach: the fan-out itself was shared.
    async with db.transaction() as session:
        claimers = await session.exec(
            select(col(Delivery.claimed_by), sa.func.count()).group_by(col(Delivery.claimed_by))
        )
        sent_by = dict(claimers.all())
    assert sum(sent_by.values()) == READERS + 1
    assert len(sent_by) > 1, sent_by

    calls = _limited_calls(emulator)
    assert [r.method for r in emulator.requests() if r.status == 429] == []
    # Bot-wide: any SEND_RATE + 1 calls in a row took at least a second to arrive.
    assert _tightest([r.at for r in calls], SEND_RATE + 1) >= 1 - ARRIVAL_JITTER
    per_chat = _arrivals_per_chat(calls)
    private = {chat: times for chat, times in per_chat.items() if chat > 0}
    assert min(_tightest(times, 2) for times in private.values()) >= 1 - ARRIVAL_JITTER
    groups = {chat: times for chat, times in per_chat.items() if chat < 0}
    assert groups
    assert all(
        _tightest(times, GROUP_PER_MINUTE + 1) >= 60 - ARRIVAL_JITTER for times in groups.values()
    )
