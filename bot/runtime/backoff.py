"""Retrying with a backoff and a bound: how long to wait before the next try, and when to stop.

Every loop that tries a Telegram call again (start-up menus, live totals edits, feed items,
empty polls) takes its waits from one of these, so none retries at a fixed pace or for ever.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Waits that double from `first` up to `longest`; `tries` attempts in all, then give up
    (None: never, for a loop whose bound is the length of its waits)."""

    first: float
    longest: float
    tries: int | None = None

    def wait(self, failures: int) -> float:
        """The wait after `failures` failures in a row (1: after the first)."""
        return float(min(self.longest, self.first * 2 ** max(0, failures - 1)))

    def gives_up(self, failures: int) -> bool:
        """Whether `failures` failures in a row are enough: no try after this one."""
        return self.tries is not None and failures >= self.tries
