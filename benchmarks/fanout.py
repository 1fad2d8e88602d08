"""Fan-out: one broadcast to many subscribers through the delivery engine.

Three measurements, each in its own process so they do not share a CPU core or a heap:

- **limits on**: the emulator (a separate process) enforces Telegram's default flood limits;
  the bot sends at SEND_RATE_PER_SECOND (25/s). ``subscribers`` chats are queued and the
  achieved rate is measured over ``limited_seconds`` against the configured one, with the
  429 answers counted.
- **limits lifted**: the emulator enforces nothing and the bot's limiter is opened wide; the
  whole fan-out to ``subscribers`` chats is timed: deliveries per second the bot side manages.
- **memory**: ``memory_sizes`` subscribers are seeded (one INSERT ... SELECT over a recursive
  CTE), one broadcast is queued for all of them (one INSERT ... SELECT), and the engine
  delivers ``memory_deliveries`` of them to a sender that does no I/O; the peak RSS of that
  process shows that memory does not grow with the audience.

    python -m benchmarks.fanout
    python -m benchmarks.fanout --subscribers 10000 --memory-sizes 100000 1000000
    python -m benchmarks.fanout --database-url postgresql+asyncpg://user@host/postgres

With ``--database-url`` (a PostgreSQL server) every measurement runs on a fresh database made on
that server (and dropped afterwards) instead of a SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.ext import ExtBot

from bot.app import settle_heap
from bot.broadcasts.sender import BroadcastSender
from bot.delivery.engine import DeliveryEngine
from bot.telegram.limiter import SendLimiter, SendRates
from bot.telegram.transport import AiohttpRequest
from emulator.limits import RateLimits
from emulator.simulation import FIRST_USER_ID, Emulator
from storage import broadcasts
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import DeliveryKind

TOKEN = "123456789:fan-out-benchmark-token"
CONFIGURED_RATE = 25.0
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
# A PostgreSQL server to measure on instead of SQLite (--database-url); None: SQLite.
_server_url: str | None = None


async def _seed_chats(db: Database, count: int, first_id: int) -> None:
    """`count` active private subscribers with ids first_id + 1 ..., in one statement."""
    if db.engine.dialect.name == "postgresql":
        async with db.transaction() as session:
            connection = await session.connection()
            await connection.execute(
                sa.text(
                    "INSERT INTO chats (id, kind, subscribed, active, topics, settings, "
                    "created_at, updated_at) "
                    "SELECT CAST(:first AS bigint) + n, 'private', true, true, '[]', '{}', "
                    "now(), now() "
                    "FROM generate_series(1, :count) AS n"
                ),
                {"count": count, "first": first_id},
            )
        return
    now = datetime.now(UTC).strftime(_SQLITE_TIME)
    statement = sa.text(
        "INSERT INTO chats (id, kind, subscribed, active, topics, settings, created_at, "
        "updated_at) "
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count) "
        "SELECT :first + n, 'private', 1, 1, '[]', '{}', :now, :now FROM seq"
    )
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(statement, {"count": count, "first": first_id, "now": now})


async def _queue_broadcast(db: Database, text: str) -> int:
    async with db.transaction() as session:
        draft = await broadcasts.create_broadcast(session, author_id=1, html=text)
        assert draft.id is not None
        await broadcasts.start_broadcast(session, broadcast_id=draft.id, report_chat_id=1)
        return draft.id


@asynccontextmanager
async def _fresh_db(folder: Path) -> AsyncIterator[Database]:
    """A new empty database: a SQLite file in `folder`, or one on the --database-url server."""
    if _server_url is None:
        db = Database.connect(f"sqlite+aiosqlite:///{folder / 'fanout.db'}")
        try:
            yield db
        finally:
            await db.dispose()
        return
    name = f"fanout_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(_server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        db = Database.connect(
            make_url(_server_url).set(database=name).render_as_string(hide_password=False)
        )
        try:
            yield db
        finally:
            await db.dispose()
            async with admin.connect() as connection:
                await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


# --- the emulator, in its own process ---------------------------------------------------------


async def _serve_emulator(users: int, lifted: bool) -> None:
    emulator = Emulator(
        limits=RateLimits.unlimited() if lifted else RateLimits(), record_requests=False
    )
    emulator.add_bot(TOKEN)
    for n in range(users):
        emulator.private_chat(emulator.create_user(f"Reader {n}")).started = True
    async with emulator:
        sys.stdout.write(f"{emulator.base_url}\n")
        sys.stdout.flush()
        # Runs until the benchmark closes our stdin.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        sys.stdout.write(f"{json.dumps({'errors_429': emulator.count_errors(429)})}\n")


def _start_emulator(users: int, *, lifted: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "benchmarks.fanout", "--serve-emulator", str(users)]
    if lifted:
        command.append("--lifted")
    process = subprocess.Popen(  # noqa: S603 - our own module, no user input
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _stop_emulator(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate("", timeout=60)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


# --- sending through the emulator -------------------------------------------------------------


async def _fan_out(
    base_url: str,
    subscribers: int,
    rates: SendRates,
    *,
    window: float | None,
    paid: bool = False,
) -> dict[str, float]:
    """Queue one broadcast for every subscriber and send; the rate over `window` (or all)."""
    with tempfile.TemporaryDirectory() as folder:
        async with _fresh_db(Path(folder)) as db:
            return await _fan_out_on(db, base_url, subscribers, rates, window=window, paid=paid)


async def _fan_out_on(
    db: Database,
    base_url: str,
    subscribers: int,
    rates: SendRates,
    *,
    window: float | None,
    paid: bool,
) -> dict[str, float]:
    await upgrade(db)
    await _seed_chats(db, subscribers, FIRST_USER_ID)
    bot: ExtBot[None] = ExtBot(
        TOKEN,
        base_url=base_url,
        rate_limiter=SendLimiter(rates),
        request=AiohttpRequest(pool_size=256),
    )
    await bot.initialize()
    engine = DeliveryEngine(db, bot)
    engine.register(DeliveryKind.BROADCAST, BroadcastSender(db, paid=paid))
    await _queue_broadcast(db, "Benchmark broadcast")
    settle_heap()  # as the bot does once it has started
    started = time.perf_counter()
    await engine.start()
    deadline = started + window if window is not None else None
    while engine.sent_total < subscribers:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    sent = engine.sent_total
    await engine.stop()
    await bot.shutdown()
    return {"sent": sent, "seconds": elapsed, "rate": sent / elapsed}


def measure_limited(subscribers: int, seconds: float) -> dict[str, float]:
    process, base_url = _start_emulator(subscribers, lifted=False)
    try:
        figures = asyncio.run(
            _fan_out(base_url, subscribers, SendRates(per_second=CONFIGURED_RATE), window=seconds)
        )
    finally:
        emulator = _stop_emulator(process)
    return {**figures, "configured_rate": CONFIGURED_RATE, **emulator}


def measure_paid(subscribers: int) -> dict[str, float]:
    """A paid broadcast (allow_paid_broadcast) with Telegram's limits on: its own 1000/s lane."""
    process, base_url = _start_emulator(subscribers, lifted=False)
    rates = SendRates()
    try:
        figures = asyncio.run(_fan_out(base_url, subscribers, rates, window=None, paid=True))
    finally:
        emulator = _stop_emulator(process)
    return {**figures, "configured_rate": rates.paid_per_second, **emulator}


def measure_lifted(subscribers: int) -> dict[str, float]:
    process, base_url = _start_emulator(subscribers, lifted=True)
    wide_open = SendRates(per_second=1e6, private_interval=0.0, group_per_minute=10**9)
    try:
        figures = asyncio.run(_fan_out(base_url, subscribers, wide_open, window=None))
    finally:
        emulator = _stop_emulator(process)
    return {**figures, **emulator}


# --- memory, in its own process ---------------------------------------------------------------


class _NullSender:
    """Sends nothing: the engine, the ledger and SQLite are all that is measured."""

    def __init__(self) -> None:
        self.count = 0

    async def send(
        self, bot: Bot, *, chat_id: int, item_id: int, plain: bool, thread_id: int
    ) -> int:
        del bot, chat_id, item_id, plain, thread_id
        self.count += 1
        await asyncio.sleep(0)
        return self.count

    async def after_sent(
        self, session: AsyncSession, *, chat_id: int, item_id: int, message_id: int
    ) -> None:
        del session, chat_id, item_id, message_id


async def _memory_run(subscribers: int, deliveries: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        async with _fresh_db(Path(folder)) as db:
            return await _memory_run_on(db, subscribers, deliveries)


async def _memory_run_on(db: Database, subscribers: int, deliveries: int) -> dict[str, float]:
    await upgrade(db)
    start = time.perf_counter()
    await _seed_chats(db, subscribers, FIRST_USER_ID)
    seeded = time.perf_counter()
    await _queue_broadcast(db, "Memory benchmark")
    if db.engine.dialect.name == "sqlite":
        # Write the seeded rows into the database file now, so delivery is timed on its own.
        async with db.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    queued = time.perf_counter()
    engine = DeliveryEngine(db, Bot(TOKEN))
    engine.register(DeliveryKind.BROADCAST, _NullSender())
    await engine.start()
    goal = min(deliveries, subscribers)
    while engine.sent_total < goal:  # noqa: ASYNC110 - the engine's counter is polled
        await asyncio.sleep(0.05)
    delivered = time.perf_counter()
    await engine.stop()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "subscribers": subscribers,
        "delivered": engine.sent_total,
        "seed_seconds": seeded - start,
        "queue_seconds": queued - seeded,
        "deliveries_per_second": engine.sent_total / (delivered - queued),
        "peak_rss_mib": peak_kib / 1024,
    }


def measure_memory(subscribers: int, deliveries: int) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.fanout",
        "--memory-run",
        str(subscribers),
        "--deliveries",
        str(deliveries),
    ]
    if _server_url is not None:
        command += ["--database-url", _server_url]
    out = subprocess.run(  # noqa: S603 - our own module, no user input
        command, check=True, capture_output=True, text=True, timeout=600
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


# --- the suite's entry point ------------------------------------------------------------------


def run(
    *,
    subscribers: int = 10_000,
    limited_seconds: float = 20.0,
    memory_sizes: tuple[int, ...] = (100_000, 1_000_000),
    memory_deliveries: int = 20_000,
) -> dict[str, Any]:
    """Every fan-out figure, by name (what `python -m benchmarks` reports)."""
    figures: dict[str, Any] = {
        "limits_on": measure_limited(subscribers, limited_seconds),
        "paid": measure_paid(subscribers),
        "limits_lifted": measure_lifted(subscribers),
    }
    for size in memory_sizes:
        figures[f"memory_{size}"] = measure_memory(size, memory_deliveries)
    return figures


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limited-seconds", type=float, default=20.0)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--memory-deliveries", type=int, default=20_000)
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to measure on (default: SQLite files)"
    )
    # Internal: the child processes.
    parser.add_argument("--serve-emulator", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lifted", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--deliveries", type=int, default=20_000, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    options = _arguments(argv)
    global _server_url  # noqa: PLW0603 - one setting for the whole run and its children
    _server_url = options.database_url
    if options.serve_emulator is not None:
        asyncio.run(_serve_emulator(options.serve_emulator, options.lifted))
        return
    if options.memory_run is not None:
        figures = asyncio.run(_memory_run(options.memory_run, options.deliveries))
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    results = run(
        subscribers=options.subscribers,
        limited_seconds=options.limited_seconds,
        memory_sizes=tuple(options.memory_sizes),
        memory_deliveries=options.memory_deliveries,
    )
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
