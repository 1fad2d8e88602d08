"""The vote storm against the periodic baseline: the real storm's emulator, chats, readers and
taps, the periodic bot in its own process as the real bot is.

The poll is posted in ``chats`` chats; readers cast ``votes`` taps with ``concurrency`` in
flight. A tap waits for its answer as long as Telegram would (15 s); a tap the bot has not
reached by then is still in its queue, and the bot stores and answers it in turn, so the
benchmark waits until every tap was handled (that last answer is the last vote), then until
every copy shows the stored totals. Last, taps arrive at ``offered_rate`` per second for
``offered_seconds`` to measure answer latency (last, because the taps it cannot answer in time
would queue for minutes).

    python -m benchmarks.baseline periodic-storm --votes 1200 --concurrency 256 --rate-seconds 2
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter, ExtBot

from benchmarks.baseline.naive_bot import OPTIONS, poll_keyboard
from benchmarks.baseline.periodic_bot import REFRESH_SECONDS, create_tables, post_poll, totals
from benchmarks.vote_storm import _chats as storm_chats
from benchmarks.vote_storm import _latencies, _throughput
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from storage.engine import Database

TOKEN = "123456789:periodic-storm-benchmark-token"
ROOT = Path(__file__).resolve().parents[2]
POLL_ID = 1
# How long a tap waits for its answer: Telegram's (and the emulator's) callback timeout.
ANSWER_TIMEOUT = 15.0
# How long the bot may take to work off the taps still queued when the readers stop.
DRAIN_TIMEOUT = 120.0


def _shows(message: SimMessage, counts: list[int]) -> bool:
    expected = poll_keyboard(POLL_ID, counts).to_dict()["inline_keyboard"]
    return [[b.get("text") for b in row] for row in message.buttons] == [
        [b.get("text") for b in row] for row in expected
    ]


async def _world(
    emulator: Emulator, readers: int, chats: int
) -> tuple[list[SimUser], list[SimChat]]:
    """The readers and the chats the poll is shown in, the bot a member of each."""
    emulator.add_bot(TOKEN, username="periodic_bot")
    people = [emulator.create_user(f"Reader {n}") for n in range(readers)]
    where = storm_chats(emulator, people, chats)
    owner = emulator.world.users[next(iter(where[1].members))]
    for chat in where:
        if chat.type != "private":
            await emulator.add_bot_to_chat(chat, by=owner, admin=chat.type == "channel")
    return people, where


@asynccontextmanager
async def _bot_process(
    emulator: Emulator, database_url: str, folder: Path, period: float
) -> AsyncIterator[None]:
    """The periodic bot in its own process (run from `folder`), until its first getUpdates."""
    log = folder / "periodic-bot.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.baseline",
            "periodic-bot",
            f"--token={TOKEN}",
            f"--base-url={emulator.base_url}",
            f"--database-url={database_url}",
            f"--period={period}",
            cwd=folder,
            # The benchmarks are not installed: found from the project's root.
            env=os.environ | {"PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1"},
            stdout=output,
            stderr=output,
        )
    try:
        polling = asyncio.ensure_future(
            emulator.wait_for(lambda: bool(emulator.requests("getUpdates")), timeout=60)
        )
        ended = asyncio.ensure_future(process.wait())
        await asyncio.wait({polling, ended}, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        if not polling.done() or polling.exception() is not None:
            polling.cancel()
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise RuntimeError("the periodic bot never polled:\n" + "\n".join(tail))
        yield
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def _quantiles(latencies: list[float]) -> tuple[float, float]:
    if len(latencies) < 2:
        only = latencies[0] if latencies else 0.0
        return only * 1000, only * 1000
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


async def run_periodic_storm(
    *,
    votes: int = 1_200,
    readers: int = 5_000,
    chats: int = 50,
    concurrency: int = 256,
    offered_rate: float = 300.0,
    offered_seconds: float = 5.0,
    period: float = REFRESH_SECONDS,
    seed: int = 1,
) -> dict[str, Any]:
    """One storm against a fresh periodic bot and database; its figures."""
    pick = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'periodic.db'}"
        db = Database.connect(url)
        try:
            async with Emulator() as emulator:
                people, where = await _world(emulator, readers, chats)
                await create_tables(db)
                # Posted as the bot itself sends: through AIORateLimiter.
                async with ExtBot(
                    TOKEN, base_url=emulator.base_url, rate_limiter=AIORateLimiter()
                ) as poster:
                    ids = await post_poll(poster, db, POLL_ID, [chat.id for chat in where])
                copies = [chat.messages[i] for chat, i in zip(where, ids, strict=True)]
                async with _bot_process(emulator, url, Path(folder), period):
                    edits_before = len(emulator.requests("editMessageText"))
                    errors_before = emulator.count_errors(429)

                    def tap() -> asyncio.Future[object]:
                        data = f"vote:{POLL_ID}:{pick.randrange(len(OPTIONS))}"
                        return asyncio.ensure_future(
                            emulator.press_button(
                                pick.choice(people),
                                pick.choice(copies),
                                data=data,
                                timeout=ANSWER_TIMEOUT,
                            )
                        )

                    elapsed, lost = await _throughput(tap, votes, concurrency)
                    readers_done = emulator.clock.now()
                    last_vote = await _last_answer(emulator, votes)
                    async with db.transaction() as session:
                        final = await totals(session, POLL_ID)
                    converged: float | None = None
                    try:
                        await emulator.wait_for(
                            lambda: all(_shows(copy, final) for copy in copies),
                            timeout=3 * period + 60,
                        )
                        converged = emulator.clock.now() - last_vote
                    except TimeoutError:
                        converged = None
                    edits = len(emulator.requests("editMessageText")) - edits_before
                    errors_429 = emulator.count_errors(429) - errors_before
                    # Last, since the taps it cannot answer in time would queue for minutes.
                    latencies, unanswered = await _latencies(tap, offered_rate, offered_seconds)
        finally:
            await db.dispose()
    p50, p99 = _quantiles(latencies)
    return {
        "votes": votes,
        "readers": readers,
        "chats": chats,
        "concurrency": concurrency,
        "period_s": period,
        "seconds": elapsed,
        "votes_per_second": (votes - lost) / elapsed,
        "unanswered_in_throughput": lost,
        "offered_rate": offered_rate,
        "offered_taps": int(offered_rate * offered_seconds),
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        "unanswered": unanswered,
        # How long the bot went on working off queued taps after the readers stopped.
        "backlog_after_readers_s": max(0.0, last_vote - readers_done),
        "edits": edits,
        "edits_per_message": edits / chats,
        "edits_per_vote": edits / votes,
        "errors_429": errors_429,
        "converged_after_s": converged,
    }


async def _last_answer(emulator: Emulator, taps: int) -> float:
    """When the bot answered (or tried to answer) the last of `taps` taps, on the emulator's
    clock: every tap is stored and answered in turn, however late."""

    def answered() -> bool:
        return len(emulator.requests("answerCallbackQuery")) >= taps

    await emulator.wait_for(answered, timeout=DRAIN_TIMEOUT, what="every tap handled")
    return emulator.requests("answerCallbackQuery")[-1].at
