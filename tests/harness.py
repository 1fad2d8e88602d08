"""What behaviour tests share: the running bot's handle, settings for the emulator, waiting, and
`python -m bot` in a process of its own with only the settings a test gives it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.services import BotApplication
from bot.settings import Settings
from bot.telegram.limiter import SendLimiter
from emulator.simulation import BotAccount, Emulator, SimUser
from storage import chats
from storage.engine import Database
from storage.models import Chat

# As the command line does: RetryAfter.retry_after is a timedelta, without a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")

BOT_TOKEN = "123456789:emulated-bot-token-for-tests"
ROOT = Path(__file__).resolve().parents[1]
# Every name the bot reads a setting from (read case-insensitively, as pydantic-settings does).
BOT_SETTING_NAMES = frozenset(
    field.validation_alias
    for field in Settings.model_fields.values()
    if isinstance(field.validation_alias, str)
)
T = TypeVar("T")
# Between two looks of `wait_until`: from the first pause, doubled up to the last. A probe is a
# database read: looked at every 10 ms for seconds, it costs the CPU every other test shares.
PROBE_PAUSES = (0.005, 0.05)


@dataclass
class RunningBot:
    """A bot polling the emulator, with the admin user and the bot's own database."""

    emulator: Emulator
    account: BotAccount
    admin: SimUser
    settings: Settings
    db: Database
    application: BotApplication


def make_settings(
    emulator: Emulator, database_url: str, admin_ids: set[int], **overrides: Any
) -> Settings:
    """Settings built explicitly (no environment, no .env) pointing the bot at the emulator."""
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "telegram_base_url": emulator.base_url,
        "database_url": database_url,
        "admin_ids": frozenset(admin_ids),
        "log_level": "INFO",
        "timezone": "UTC",
    }
    return Settings(_env_file=None, **(values | overrides))


# A quick private-chat pace for conversations: twenty messages a second instead of one.
QUICK_PRIVATE_INTERVAL = 0.05


def quicken_private_chats(running: RunningBot, interval: float = QUICK_PRIVATE_INTERVAL) -> None:
    """For a test holding a long conversation in private chats, which checks what is said and
    stored, not its pace: Telegram's one message a second in a private chat becomes one every
    `interval`, in the bot's limiter and the emulator's flood control alike (every other rate
    stays Telegram's)."""
    limiter = running.application.bot.rate_limiter
    assert isinstance(limiter, SendLimiter)
    limiter.rates = replace(limiter.rates, private_interval=interval)
    running.emulator.limits = replace(running.emulator.limits, per_chat_per_second=1 / interval)


def bot_env(**settings: str) -> dict[str, str]:
    """The environment for a bot process: this one's without pytest's variables or any of the
    bot's settings, then the given settings, and PYTHONPATH at the project."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in BOT_SETTING_NAMES and not name.startswith("PYTEST")
    }
    return env | settings | {"PYTHONPATH": str(ROOT)}


async def start_bot_process(cwd: Path, *args: str, **settings: str) -> asyncio.subprocess.Process:
    """`python -m bot ARGS` started in `cwd` with only the given settings, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=bot_env(**settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def start_logged_bot(
    workdir: Path, env: dict[str, str], log: Path | None = None
) -> asyncio.subprocess.Process:
    """`python -m bot run` in `workdir` (not the repository root: no .env there is read by
    accident) with exactly `env`, its output appended to `log` (default: workdir/bot.log)."""
    with (log or workdir / "bot.log").open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=workdir, stdout=output, stderr=output
        )


async def run_bot_command(
    cwd: Path, *args: str, timeout: float = 60, **settings: str
) -> tuple[int, str, str]:
    """`python -m bot ARGS` run to its end, as `start_bot_process` starts it: the exit code, then
    what it printed on stdout and on stderr."""
    process = await start_bot_process(cwd, *args, **settings)
    out, err = await asyncio.wait_for(process.communicate(), timeout=timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def wait_until_polling(
    emulator: Emulator, account: BotAccount, *, timeout: float = 30
) -> None:
    """Waits until the bot first asks for updates: its getUpdates call has arrived (a long poll
    is recorded only when it ends, when an update comes or up to 10 s later)."""
    await emulator.wait_for(
        lambda: account.poll_generation > 0,
        timeout=timeout,
        what=f"@{account.username} to ask for updates",
    )


async def wait_until(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 5.0, what: str = "condition"
) -> T:
    """Re-checks an async probe (e.g. a database read) until it gives a value, or fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = PROBE_PAUSES[0]
    while True:
        if (value := await probe()) is not None and value is not False:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(pause)
        pause = min(pause * 2, PROBE_PAUSES[1])


async def stored_chat(running_bot: RunningBot, chat_id: int) -> Chat | None:
    async with running_bot.db.transaction() as session:
        return await chats.get_chat(session, chat_id=chat_id)
