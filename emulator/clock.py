"""Time as the emulator sees it: the real clock, or a manual one that tests move forward."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale, for rate limits and expiry."""
        ...

    def unix(self) -> int:
        """Whole seconds since the epoch, for message dates."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def unix(self) -> int:
        return int(time.time())


class ManualClock:
    """A clock that moves only when a test calls `advance`: limits tested without sleeping."""

    def __init__(self, start: float = 1_000.0, unix_start: int = 1_764_000_000) -> None:
        self._now = start
        self._unix_offset = unix_start - start

    def now(self) -> float:
        return self._now

    def unix(self) -> int:
        return int(self._now + self._unix_offset)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._now += seconds
