"""Start-up: from process start to the bot's first getUpdates.

The emulator runs in this process; the bot is started as a separate process (`python -m bot
run`, long polling, a fresh SQLite database, so the schema is created too) from an empty folder
with no .env (PYTHONPATH, when set, is passed on, so another checkout can be measured). The clock
starts just before the process is spawned and stops when the emulator
receives the bot's first getUpdates (when the request arrives, not when its long poll ends).
Repeated ``runs`` times; the median is the figure.

    python -m benchmarks.startup --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import print_json
from emulator.simulation import Emulator

TOKEN = "123456789:start-up-benchmark-token-0123456789"


async def _one_start(folder: Path) -> float:
    """Seconds from spawning `python -m bot run` to its first getUpdates."""
    async with Emulator(record_requests=False) as emulator:
        account = emulator.add_bot(TOKEN)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(folder),
            "PTB_TIMEDELTA": "1",
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": emulator.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.db'}",
            "LOG_LEVEL": "WARNING",
        }
        if python_path := os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = python_path
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await emulator.wait_for(
                lambda: account.poll_generation > 0, timeout=60, what="the first getUpdates"
            )
            return time.perf_counter() - started
        finally:
            process.terminate()
            await process.wait()


async def measure(runs: int) -> dict[str, float]:
    seconds: list[float] = []
    for n in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            run_folder = Path(folder) / f"run-{n}"
            run_folder.mkdir()
            seconds.append(await _one_start(run_folder))
    return {
        "runs": runs,
        "median_seconds": statistics.median(seconds),
        "best_seconds": min(seconds),
        "worst_seconds": max(seconds),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args(argv)
    print_json(asyncio.run(measure(options.runs)))


if __name__ == "__main__":
    main()
