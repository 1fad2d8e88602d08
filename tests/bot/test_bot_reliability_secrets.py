"""The bot token never reaches the logs (DEBUG, tracebacks included) or the database."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from harness import BOT_TOKEN, RunningBot, wait_until
from sqlmodel import SQLModel, select

from bot.logs import RedactingFormatter

SECRET = BOT_TOKEN.partition(":")[2]


@pytest.fixture(name="debug_log")
def debug_log_fixture() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, formatted as the command line formats it."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(
        RedactingFormatter("%(levelname)s %(name)s: %(message)s", (BOT_TOKEN, SECRET))
    )
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def _database_dump(running_bot: RunningBot) -> str:
    async with running_bot.db.transaction() as session:
        rows = [
            repr(row)
            for table in SQLModel.metadata.sorted_tables
            for row in (await session.exec(select(table))).all()  # type: ignore[call-overload]
        ]
    return "\n".join(rows)


async def test_token_stays_out_of_debug_logs_tracebacks_and_the_database(
    running_bot: RunningBot, debug_log: io.StringIO
) -> None:
    """A handler failing with a traceback, logged at DEBUG: no token in the log or any row."""
    emu = running_bot.emulator
    reader = emu.create_user("Tia")
    emu.inject_faults(502, methods={"sendMessage"}, count=1)
    await emu.send_message(reader, "/start")
    # The error handler apologises once the failed reply has been logged with its traceback.
    await emu.wait_for_bot_message(emu.private_chat(reader), timeout=10)
    await emu.send_message(reader, "/help")

    async def logged_traceback() -> bool:
        return "Traceback (most recent call last)" in debug_log.getvalue()

    await wait_until(logged_traceback, what="a traceback in the log")
    log = debug_log.getvalue()
    assert "DEBUG" in log
    assert "Bad Gateway" in log
    assert SECRET not in log
    dump = await _database_dump(running_bot)
    assert str(reader.id) in dump
    assert SECRET not in dump
