"""A bot process killed with SIGKILL in the middle of a correction and started again: every
copy ends corrected, each edited exactly once (no doubled "Updated" line), and the copies the
killed process had in flight were tried again at most once each."""

from __future__ import annotations

from pathlib import Path

import pytest
from corrections_support import story, updated_lines
from delivery_world import subscribe_readers
from harness import BOT_TOKEN, bot_env, start_logged_bot

from bot.articles.publishing import publish_draft, read_markdown
from bot.corrections.runner import WINDOW
from bot.settings import Settings
from emulator.simulation import Emulator, SimMessage, SimUser
from storage.engine import Database
from storage.migrate import upgrade

FIRST = "Night Ferry to Run All Year"
CORRECTED = "Night Ferry to Run All Year From March"
READERS = 150


def _env(emulator: Emulator, database_url: str, admin: SimUser) -> dict[str, str]:
    return bot_env(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        ADMIN_IDS=str(admin.id),
        # Slow enough that the kill lands mid-correction, fast enough for the test budget.
        SEND_RATE_PER_SECOND="20",
        ALLOW_PAID_BROADCAST="true",
        LOG_LEVEL="WARNING",
        PTB_TIMEDELTA="1",
    )


def _corrected(copies: list[SimMessage]) -> int:
    return sum(1 for copy in copies if (copy.text or "").startswith(CORRECTED))


@pytest.mark.slow
async def test_sigkill_mid_correction_then_restart(
    emulator: Emulator, tmp_path: Path, database_url: str
) -> None:
    """Killed after a third of the copies were corrected, the restarted bot corrects the rest:
    each copy shows the new headline and one "Updated" line after exactly one edit, and at
    most WINDOW edits were sent a second time."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    emulator.private_chat(admin).started = True
    db = Database.connect(database_url)
    await upgrade(db)
    readers = await subscribe_readers(emulator, db, READERS)
    settings = Settings(_env_file=None, bot_token=BOT_TOKEN, database_url=database_url)
    await publish_draft(db, read_markdown(story(FIRST), name="ferry.md", settings=settings))
    await db.dispose()
    env = _env(emulator, database_url, admin)
    log = tmp_path / "bot.log"

    first = await start_logged_bot(tmp_path, env, log)
    try:
        chats = [emulator.private_chat(reader) for reader in readers]
        await emulator.wait_for(
            lambda: all(emulator.bot_messages(chat) for chat in chats),
            timeout=30,
            what="every reader's card",
        )
        copies = [emulator.bot_messages(chat)[0] for chat in chats]
        upload = await emulator.send_message(
            admin, "", document=("ferry.md", story(CORRECTED).encode())
        )
        await emulator.send_message(admin, "/update 1 Start date corrected", reply_to=upload)
        admin_chat = emulator.private_chat(admin)
        preview = await emulator.wait_for(
            lambda: next((m for m in emulator.bot_messages(admin_chat) if m.buttons), None),
            timeout=30,
            what="the preview",
        )
        await emulator.press_button(admin, preview, text="Confirm", timeout=15)
        await emulator.wait_for(
            lambda: _corrected(copies) >= READERS // 3,
            timeout=30,
            what="a third of the copies corrected",
        )
    finally:
        first.kill()
        await first.wait()
    assert _corrected(copies) < READERS, "the kill must land mid-correction"

    second = await start_logged_bot(tmp_path, env, log)
    try:
        await emulator.wait_for(
            lambda: _corrected(copies) == READERS,
            timeout=60,
            what="every copy corrected after the restart",
        )
        await emulator.wait_for(
            lambda: "Article 1 corrected" in (preview.text or ""),
            timeout=30,
            what="the report",
        )
    finally:
        second.terminate()
        await second.wait()

    assert "Edited: 150 · Failed: 0" in (preview.text or "")
    assert {(updated_lines(copy), len(copy.edits)) for copy in copies} == {(1, 1)}
    edits = [
        request
        for request in emulator.requests("editMessageText")
        if request.params.get("chat_id") != admin.id
    ]
    assert READERS <= len(edits) <= READERS + WINDOW
