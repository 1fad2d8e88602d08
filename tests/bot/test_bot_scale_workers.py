"""Three `python -m bot run --webhook` processes on one port and one PostgreSQL database share a
fan-out and a burst of votes: every reader gets the card once, Telegram never says 429, and every
copy of the card converges on the stored totals."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from delivery_world import subscribe_readers
from harness import BOT_TOKEN, wait_until
from polls_support import create_article_poll, expected_content, shows
from sqlmodel import col, select

from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimMessage, SimUser
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

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
READERS = 300
VOTERS = 60
SECRET = "scale-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _worker_env(
    emulator: Emulator, database_url: str, admin: SimUser, port: int
) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST")}
    env.update(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        ADMIN_IDS=str(admin.id),
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/updates",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        # Together the workers may send 360 a second (120 each); Telegram here allows 400.
        SEND_RATE_PER_SECOND="360",
        POLL_EDIT_INTERVAL="1",
        LOG_LEVEL="INFO",
        PTB_TIMEDELTA="1",
        PYTHONPATH=str(ROOT),
    )
    return env


async def _live_workers(db: Database) -> int | None:
    async with db.transaction() as session:
        count = len(await leases.live_workers(session))
    return count if count == WORKERS else None


async def _start_workers(env: dict[str, str], tmp_path: Path) -> list[asyncio.subprocess.Process]:
    processes = []
    for number in range(WORKERS):
        with (tmp_path / f"worker-{number}.log").open("ab") as output:
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    "--webhook",
                    env=env,
                    # Not the repository root: no .env there is read by accident.
                    cwd=tmp_path,
                    stdout=output,
                    stderr=output,
                )
            )
    return processes


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


@pytest.fixture(name="workers_world")
async def workers_world_fixture(
    emulator: Emulator, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Database, list[SimUser]]]:
    """Three webhook workers running on one port with 300 subscribed readers."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    emulator.limits = RateLimits(bot_per_second=400.0)
    admin = emulator.create_user("Ada")
    db = Database.connect(database_url)
    # Migrations run once, before the workers start (as docs/DEPLOY.md says).
    await upgrade(db)
    readers = await subscribe_readers(emulator, db, READERS)
    processes = await _start_workers(
        _worker_env(emulator, database_url, admin, _free_port()), tmp_path
    )
    try:
        await wait_until(lambda: _live_workers(db), timeout=30, what="three live workers")
        yield db, readers
    finally:
        await _stop(processes)
        await db.dispose()
        logs = _read_logs(tmp_path)
        assert "Traceback" not in logs, logs[-4000:]


async def test_three_workers_share_a_fanout_and_a_vote_burst(
    emulator: Emulator, workers_world: tuple[Database, list[SimUser]]
) -> None:
    """Every reader gets the card exactly once, no call gets 429, more than one worker claims
    the fan-out, and after a burst of votes every copy shows the stored totals."""
    db, readers = workers_world
    poll_id = await create_article_poll(db)
    async with db.transaction() as session:
        record = await polls.poll_record(session, poll_id=poll_id)
        assert record is not None
        assert record.article_id is not None
        article_id = record.article_id
        assert await deliveries.queue_article(session, article_id=article_id) == READERS
        await articles.mark_published(session, article_id=article_id)

    await emulator.wait_for(
        lambda: all(_cards(emulator, reader) for reader in readers),
        timeout=60,
        what="every reader to get the card",
    )
    await asyncio.gather(
        *(
            emulator.press_button(reader, _cards(emulator, reader)[0], timeout=30)
            for reader in readers[:VOTERS]
        )
    )
    final = await expected_content(db, poll_id)
    assert f"Total votes: {VOTERS}" in final.text_html
    await emulator.wait_for(
        lambda: all(shows(_cards(emulator, reader)[0], final) for reader in readers),
        timeout=60,
        what="every copy to show the stored totals",
    )

    assert all(len(_cards(emulator, reader)) == 1 for reader in readers)
    assert [r.method for r in emulator.requests() if r.status == 429] == []
    # Claims do not depend on which worker the updates reach: the fan-out itself was shared.
    async with db.transaction() as session:
        claimers = await session.exec(
            select(col(Delivery.claimed_by), sa.func.count()).group_by(col(Delivery.claimed_by))
        )
        sent_by = dict(claimers.all())
    assert sum(sent_by.values()) == READERS
    assert len(sent_by) > 1, sent_by
