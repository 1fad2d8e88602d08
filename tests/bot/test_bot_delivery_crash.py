"""A bot process killed with SIGKILL mid-broadcast and started again: nothing lost, duplicates
bounded by the engine's unrecorded sends."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from delivery_world import received, subscribe_readers
from harness import BOT_TOKEN, bot_env, start_logged_bot

from bot.delivery.engine import MAX_UNRECORDED_SENDS, MIN_UNRECORDED_SENDS
from emulator.simulation import Emulator, SimUser
from storage import broadcasts
from storage.engine import Database
from storage.migrate import upgrade

TEXT = "Storm warning for the coast tonight"


def _bot_process_env(
    emulator: Emulator, database_url: str, admin: SimUser, *, paid: bool
) -> dict[str, str]:
    return bot_env(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        ADMIN_IDS=str(admin.id),
        # Slow enough that the kill lands mid-broadcast, fast enough for the test budget.
        SEND_RATE_PER_SECOND="60",
        # Paid broadcasts go at up to 1000/s: the engine's window grows towards its largest.
        ALLOW_PAID_BROADCAST="true" if paid else "false",
        LOG_LEVEL="WARNING",
        PTB_TIMEDELTA="1",
    )


def _copies(emulator: Emulator, readers: list[SimUser]) -> Counter[int]:
    return Counter(received(emulator, emulator.private_chat(r), TEXT) for r in readers)


@dataclass(frozen=True)
class Pace:
    """How fast the killed bot sends, how many read, and how many may get the broadcast twice."""

    paid: bool
    readers: int
    twice_at_most: int


@pytest.mark.slow
@pytest.mark.parametrize(
    "pace",
    [Pace(False, 300, MIN_UNRECORDED_SENDS), Pace(True, 1000, MAX_UNRECORDED_SENDS)],
    ids=["ordinary", "paid"],
)
async def test_sigkill_mid_broadcast_then_restart(
    emulator: Emulator, tmp_path: Path, database_url: str, pace: Pace
) -> None:
    """After kill -9 mid-broadcast and a restart, every reader has the broadcast; at most
    MIN_UNRECORDED_SENDS readers have it twice at an ordinary pace (60/s here), at most
    MAX_UNRECORDED_SENDS at the pace of paid broadcasts."""
    readers_count = pace.readers
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    emulator.private_chat(admin).started = True
    db = Database.connect(database_url)
    await upgrade(db)
    readers = await subscribe_readers(emulator, db, readers_count)
    async with db.transaction() as session:
        draft = await broadcasts.create_broadcast(session, author_id=admin.id, html=TEXT)
        assert draft.id is not None
        await broadcasts.start_broadcast(session, broadcast_id=draft.id, report_chat_id=admin.id)
    await db.dispose()
    env = _bot_process_env(emulator, database_url, admin, paid=pace.paid)
    log = tmp_path / "bot.log"

    first = await start_logged_bot(tmp_path, env, log)
    try:
        await emulator.wait_for(
            lambda: (
                sum(1 for r in readers if received(emulator, emulator.private_chat(r), TEXT))
                >= readers_count // 3
            ),
            timeout=30,
            what="a third of the readers to get the broadcast",
        )
    finally:
        first.kill()
        await first.wait()
    reached_before_kill = readers_count - _copies(emulator, readers)[0]
    assert reached_before_kill < readers_count, "the kill must land mid-broadcast"

    second = await start_logged_bot(tmp_path, env, log)
    try:
        await emulator.wait_for(
            lambda: _copies(emulator, readers)[0] == 0,
            timeout=30,
            what="every reader to get the broadcast after the restart",
        )
        await emulator.wait_for(
            lambda: any(
                "finished" in (m.text or "")
                for m in emulator.bot_messages(emulator.private_chat(admin))
            ),
            timeout=15,
            what="the final report",
        )
    finally:
        second.terminate()
        await second.wait()

    copies = _copies(emulator, readers)
    assert set(copies) <= {1, 2}
    assert copies[2] <= pace.twice_at_most
    assert copies[1] + copies[2] == readers_count
