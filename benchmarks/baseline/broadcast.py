"""The fan-out against the naive bot: a plain loop over every subscriber.

Same emulator process and audience as `benchmarks.fanout`: with limits on, the loop runs behind
AIORateLimiter's defaults (30/s) for ``seconds``; with limits lifted (emulator and limiter), the
whole loop is timed. Memory: the loop first reads every subscriber id, so its peak RSS is
measured at the same audience sizes with a bot call that does no I/O.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite
from telegram.error import RetryAfter, TelegramError

from benchmarks.baseline.naive_bot import NaiveApplication, build_naive_application, open_database
from benchmarks.fanout import _start_emulator as start_emulator
from benchmarks.fanout import _stop_emulator as stop_emulator
from emulator.simulation import FIRST_USER_ID

TOKEN = "123456789:fan-out-benchmark-token"


async def _seed(db: aiosqlite.Connection, count: int) -> None:
    await db.execute(
        "INSERT INTO subscribers (chat_id) "
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
        "SELECT ? + n FROM seq",
        (count, FIRST_USER_ID),
    )
    await db.commit()


async def _timed_broadcast(
    application: NaiveApplication, db: aiosqlite.Connection, window: float | None
) -> dict[str, float]:
    """The plain loop; stops after `window` seconds if given."""
    async with db.execute("SELECT chat_id FROM subscribers") as cursor:
        subscribers = await cursor.fetchall()
    sent = failed = flooded = 0
    started = time.perf_counter()
    for (chat_id,) in subscribers:
        if window is not None and time.perf_counter() - started >= window:
            break
        try:
            await application.bot.send_message(chat_id, "Benchmark broadcast")
            sent += 1
        except RetryAfter:
            flooded += 1
        except TelegramError:  # the naive loop counts every failure and goes on
            failed += 1
    elapsed = time.perf_counter() - started
    return {
        "sent": sent,
        "failed": failed,
        "retry_after_seen": flooded,
        "seconds": elapsed,
        "rate": sent / elapsed,
    }


async def _broadcast_through(
    base_url: str, subscribers: int, *, limited: bool, window: float | None
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = await open_database(str(Path(folder) / "naive.db"))
        await _seed(db, subscribers)
        application = build_naive_application(TOKEN, base_url, db, limited=limited)
        await application.initialize()
        try:
            figures = await _timed_broadcast(application, db, window)
        finally:
            await application.shutdown()
            await db.close()
    return figures


def measure_limited(subscribers: int, seconds: float) -> dict[str, Any]:
    process, base_url = start_emulator(subscribers, lifted=False)
    try:
        figures = asyncio.run(
            _broadcast_through(base_url, subscribers, limited=True, window=seconds)
        )
    finally:
        emulator = stop_emulator(process)
    return {**figures, "configured_rate": 30.0, **emulator}


def measure_lifted(subscribers: int) -> dict[str, Any]:
    process, base_url = start_emulator(subscribers, lifted=True)
    try:
        figures = asyncio.run(
            _broadcast_through(base_url, subscribers, limited=False, window=None)
        )
    finally:
        emulator = stop_emulator(process)
    return {**figures, **emulator}


async def measure_memory(subscribers: int, deliveries: int) -> dict[str, float]:
    """The loop over `subscribers` with a send that does nothing, stopped after `deliveries`."""
    with tempfile.TemporaryDirectory() as folder:
        db = await open_database(str(Path(folder) / "naive.db"))
        await _seed(db, subscribers)
        started = time.perf_counter()
        async with db.execute("SELECT chat_id FROM subscribers") as cursor:
            everyone = await cursor.fetchall()
        sent = 0
        for (chat_id,) in everyone:
            del chat_id
            await asyncio.sleep(0)
            sent += 1
            if sent >= deliveries:
                break
        elapsed = time.perf_counter() - started
        await db.close()
    return {
        "subscribers": subscribers,
        "delivered": sent,
        "deliveries_per_second": sent / elapsed,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
