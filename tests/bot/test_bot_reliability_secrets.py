"""The bot token never reaches the logs (DEBUG, tracebacks included), the terminal (a token
Telegram refuses, an uncaught exception) or the database."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import BOT_TOKEN, ROOT, RunningBot, run_bot_command, wait_until
from sqlmodel import SQLModel, select

from bot.logs import RedactingFormatter
from emulator.simulation import Emulator

SECRET = BOT_TOKEN.partition(":")[2]
# A well-formed token the emulator (like Telegram) has never issued.
UNKNOWN_TOKEN = "987654321:a-token-nobody-issued-Xq7"
REFUSED = "error: Telegram rejected BOT_TOKEN (check the token and TELEGRAM_BASE_URL)"
WEBHOOK_SECRET = "webhook-secret-for-the-refused-token-test"


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


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("token", "api_path", "mode"),
    [
        pytest.param(UNKNOWN_TOKEN, "/bot", "run", id="unknown-token"),
        pytest.param(BOT_TOKEN, "/not-the-bot-api/bot", "run", id="base-url-answering-404"),
        pytest.param(UNKNOWN_TOKEN, "/bot", "run --webhook", id="unknown-token-webhook"),
    ],
)
async def test_a_token_telegram_refuses_is_one_line_and_never_printed(
    tmp_path: Path, emulator: Emulator, token: str, api_path: str, mode: str
) -> None:
    """`run` with a token Telegram refuses (401), or a TELEGRAM_BASE_URL answering 404: exit 2,
    one line saying what to check, and the token nowhere in the output."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    root = emulator.base_url.removesuffix("/bot")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = await run_bot_command(
        tmp_path,
        *mode.split(),
        BOT_TOKEN=token,
        TELEGRAM_BASE_URL=f"{root}{api_path}",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_PORT=str(port),
    )
    assert (code, out) == (2, "")
    assert err.splitlines() == [REFUSED]
    for secret in (token, token.partition(":")[2], WEBHOOK_SECRET):
        assert secret not in out + err


async def test_an_uncaught_exception_prints_the_token_redacted(tmp_path: Path) -> None:
    """The last resort: a traceback nobody caught, in the main thread or another, is printed
    with the token and its secret part blanked out."""
    script = (
        "import sys, threading\n"
        "from bot.logs import redact_uncaught\n"
        "token = sys.argv[1]\n"
        "redact_uncaught((token, token.partition(':')[2]))\n"
        "thread = threading.Thread(target=lambda: exec('raise ValueError(token)'))\n"
        "thread.start(); thread.join()\n"
        "raise RuntimeError(f'POST /bot{token}/getMe failed')\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        BOT_TOKEN,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=asyncio.subprocess.PIPE,
    )
    _, raw = await asyncio.wait_for(process.communicate(), timeout=60)
    err = raw.decode()
    assert process.returncode == 1
    assert SECRET not in err
    assert "RuntimeError: POST /bot[redacted]/getMe failed" in err
    assert "ValueError: [redacted]" in err
