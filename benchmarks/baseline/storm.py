"""The vote storm against the naive bot: the same emulator, chats and readers as the real one.

The naive bot handles one update at a time and edits every copy after each vote, so it cannot
take the real storm's 20,000 votes in any reasonable time: readers tap for ``seconds`` with
``concurrency`` taps in flight (few enough that queued taps are answered before Telegram's
callback timeout), and the figures are rates over that window.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite

from benchmarks.baseline.naive_bot import (
    build_naive_application,
    open_database,
    poll_keyboard,
    post_poll,
    totals,
)
from benchmarks.vote_storm import _chats as storm_chats
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser

TOKEN = "123456789:naive-storm-benchmark-token"
POLL_ID = 1
# A tap waits this long for its answer; Telegram's own callback timeout is about 15 s.
ANSWER_TIMEOUT = 14.0


def _shows(message: SimMessage, counts: list[int]) -> bool:
    expected = poll_keyboard(POLL_ID, counts).to_dict()["inline_keyboard"]
    return [[b.get("text") for b in row] for row in message.buttons] == [
        [b.get("text") for b in row] for row in expected
    ]


async def _world(
    emulator: Emulator, readers: int, chats: int
) -> tuple[list[SimUser], list[SimChat]]:
    """The readers and the chats the poll is shown in, the bot a member of each."""
    emulator.add_bot(TOKEN, username="naive_bot")
    people = [emulator.create_user(f"Reader {n}") for n in range(readers)]
    where = storm_chats(emulator, people, chats)
    owner = emulator.world.users[next(iter(where[1].members))]
    for chat in where:
        if chat.type != "private":
            await emulator.add_bot_to_chat(chat, by=owner, admin=chat.type == "channel")
    return people, where


async def run_naive_storm(
    *, readers: int = 5_000, chats: int = 50, concurrency: int = 4, seconds: float = 30.0
) -> dict[str, Any]:
    """Tap the naive bot's poll for `seconds`; votes/s, edits, 429s, convergence."""
    with tempfile.TemporaryDirectory() as folder:
        db = await open_database(str(Path(folder) / "naive.db"))
        try:
            figures = await _storm(db, readers, chats, concurrency, seconds)
        finally:
            # aiosqlite's thread keeps the process alive until the database is closed.
            await db.close()
    return figures


async def _storm(
    db: aiosqlite.Connection, readers: int, chats: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    pick = random.Random(1)
    async with Emulator() as emulator:
        people, where = await _world(emulator, readers, chats)
        application = build_naive_application(TOKEN, emulator.base_url, db)
        await application.initialize()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        await application.start()
        try:
            ids = await post_poll(application, db, POLL_ID, [chat.id for chat in where])
            copies = [chat.messages[i] for chat, i in zip(where, ids, strict=True)]
            edits_before = len(emulator.requests("editMessageText"))
            answered = expired = 0
            last_answer = started = time.perf_counter()

            async def reader_taps() -> None:
                nonlocal answered, expired, last_answer
                while time.perf_counter() - started < seconds:
                    copy = pick.choice(copies)
                    data = f"vote:{POLL_ID}:{pick.randrange(3)}"
                    try:
                        await emulator.press_button(
                            pick.choice(people), copy, data=data, timeout=ANSWER_TIMEOUT
                        )
                    except TimeoutError:
                        expired += 1
                        continue
                    answered += 1
                    last_answer = time.perf_counter()

            await asyncio.gather(*(reader_taps() for _ in range(concurrency)))
            elapsed = last_answer - started
            final = await totals(db, POLL_ID)
            converged: float | None
            try:
                await emulator.wait_for(
                    lambda: all(_shows(copy, final) for copy in copies), timeout=30
                )
                converged = time.perf_counter() - last_answer
            except TimeoutError:
                converged = None
            edits = len(emulator.requests("editMessageText")) - edits_before
            errors_429 = emulator.count_errors(429)
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
    return {
        "readers": readers,
        "chats": chats,
        "concurrency": concurrency,
        "seconds": elapsed,
        "votes": answered,
        "expired": expired,
        "votes_per_second": answered / elapsed if elapsed > 0 else 0.0,
        "edits": edits,
        "edits_per_message": edits / chats,
        "edits_per_vote": edits / answered if answered else 0.0,
        "errors_429": errors_429,
        "converged_after_s": converged,
    }
