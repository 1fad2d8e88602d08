"""The per-reader tap limit: a reader (or a script) hammering a poll's buttons is slowed down.

At most `limit` taps per reader per poll within any `window` seconds reach the vote writer; the
rest are answered with a toast and write nothing.
"""

from __future__ import annotations

import time
from collections import deque

SLOW_DOWN = "Slow down a little — your vote is saved."
_SWEEP_EVERY = 4096  # checks between sweeps of readers who went quiet


class TapLimiter:
    """A sliding window of accepted taps per (reader, poll), in memory."""

    def __init__(self, *, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._taps: dict[tuple[int, int], deque[float]] = {}
        self._checks = 0
        self.refused = 0

    def allow(self, *, user_id: int, poll_id: int, now: float | None = None) -> bool:
        """True if this tap may be stored; a refused tap does not use up the window."""
        now = time.monotonic() if now is None else now
        self._checks += 1
        if self._checks % _SWEEP_EVERY == 0:
            self._sweep(now)
        taps = self._taps.setdefault((user_id, poll_id), deque())
        while taps and now - taps[0] >= self._window:
            taps.popleft()
        if len(taps) >= self._limit:
            self.refused += 1
            return False
        taps.append(now)
        return True

    def _sweep(self, now: float) -> None:
        self._taps = {
            key: taps for key, taps in self._taps.items() if taps and now - taps[-1] < self._window
        }
