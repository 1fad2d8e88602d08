"""What every scenario shares: the machine's description and scenarios run in child processes.

Each scenario runs in a fresh Python process, so one scenario's heap, caches and threads never
colour the next one's figures; the child prints its figures as one JSON line, last.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A scenario that has not finished in this time is reported as failed, not waited for forever.
CHILD_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True)
class Machine:
    """What the figures were measured on: no host names, no paths."""

    cpu: str
    cores: int
    memory_gib: float
    python: str
    system: str

    def describe(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory_gib:.1f} GiB RAM; "
            f"Python {self.python}; {self.system}"
        )


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown CPU"
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == "model name":
            return " ".join(value.split())
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        lines = Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _system() -> str:
    try:
        release = platform.freedesktop_os_release()
        name = release.get("PRETTY_NAME") or release.get("NAME") or platform.system()
    except OSError:
        name = platform.system()
    return f"{name}, {platform.system()} {platform.release()}"


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def this_machine() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=_cores(),
        memory_gib=_memory_gib(),
        python=platform.python_version(),
        system=_system(),
    )


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args...` and return the JSON object on its last output line."""
    command = [sys.executable, "-m", module, *args]
    env = os.environ | {"PTB_TIMEDELTA": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run(  # noqa: S603 - our own modules, no outside input
        command,
        check=False,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        env=env,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command[1:])} failed ({done.returncode}):\n{tail}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def print_json(figures: object) -> None:
    """The child's last line: what `run_child` reads."""
    sys.stdout.write(json.dumps(figures) + "\n")
    sys.stdout.flush()
