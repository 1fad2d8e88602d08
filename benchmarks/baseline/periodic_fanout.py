"""The fan-out against the periodic baseline: its broadcast loop behind AIORateLimiter.

Same emulator process and audience as `benchmarks.fanout`: with limits on, the loop runs behind
AIORateLimiter's defaults (30/s) for ``seconds``, waiting out every 429 and sending to that chat
again; with limits lifted (emulator and limiter), the whole loop is timed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter, ExtBot

from benchmarks.baseline.periodic_bot import add_subscribers, broadcast, create_tables
from benchmarks.fanout import _start_emulator as start_emulator
from benchmarks.fanout import _stop_emulator as stop_emulator
from emulator.simulation import FIRST_USER_ID
from storage.engine import Database

TOKEN = "123456789:fan-out-benchmark-token"
CONFIGURED_RATE = 30.0


async def _broadcast_through(
    base_url: str, subscribers: int, *, limited: bool, window: float | None
) -> dict[str, float]:
    limiter = AIORateLimiter() if limited else AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    with tempfile.TemporaryDirectory() as folder:
        db = Database.connect(f"sqlite+aiosqlite:///{Path(folder) / 'periodic.db'}")
        try:
            await create_tables(db)
            await add_subscribers(db, range(FIRST_USER_ID + 1, FIRST_USER_ID + subscribers + 1))
            async with ExtBot(TOKEN, base_url=base_url, rate_limiter=limiter) as bot:
                started = time.perf_counter()
                report = await broadcast(bot, db, "Benchmark broadcast", window=window)
                elapsed = time.perf_counter() - started
        finally:
            await db.dispose()
    return {
        "sent": report.sent,
        "failed": report.failed,
        "retry_after_seen": report.retry_after_seen,
        "seconds": elapsed,
        "rate": report.sent / elapsed,
    }


def measure_limited(subscribers: int, seconds: float) -> dict[str, Any]:
    process, base_url = start_emulator(subscribers, lifted=False)
    try:
        figures = asyncio.run(
            _broadcast_through(base_url, subscribers, limited=True, window=seconds)
        )
    finally:
        emulator = stop_emulator(process)
    return {**figures, "configured_rate": CONFIGURED_RATE, **emulator}


def measure_lifted(subscribers: int) -> dict[str, Any]:
    process, base_url = start_emulator(subscribers, lifted=True)
    try:
        figures = asyncio.run(
            _broadcast_through(base_url, subscribers, limited=False, window=None)
        )
    finally:
        emulator = stop_emulator(process)
    return {**figures, **emulator}
