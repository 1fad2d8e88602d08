"""Vote tallies of a reader poll: totals, percentages that add up to 100, bars and counts.

Plain values only: the Telegram-facing rendering in ``bot.polls.view`` builds on these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BAR_FILLED = "▰"
BAR_EMPTY = "▱"


@dataclass(frozen=True)
class Tally:
    """Votes per option, in option order."""

    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        for count in self.counts:
            # bool is an int subclass; a True vote count is always a caller's mistake
            if type(count) is not int or count < 0:
                raise ValueError(f"vote counts must be non-negative integers, got {count!r}")

    @property
    def total(self) -> int:
        """All votes cast, across options."""
        return sum(self.counts)

    def percentages(self) -> tuple[int, ...]:
        """Whole percentages per option that add up to exactly 100 (all zeros without votes).

        Largest remainder method: every option gets the floor of its exact share, and the points
        still missing go to the largest remainders; equal remainders favour the earlier option.
        """
        total = self.total
        if total == 0:
            return tuple(0 for _ in self.counts)
        # integer arithmetic keeps the result exact and the same on every platform
        floors = [count * 100 // total for count in self.counts]
        remainders = [count * 100 % total for count in self.counts]
        missing = 100 - sum(floors)
        by_remainder = sorted(range(len(floors)), key=lambda i: (-remainders[i], i))
        for index in by_remainder[:missing]:
            floors[index] += 1
        return tuple(floors)


def bar(share: float, width: int = 10) -> str:
    """A bar of ``width`` cells with ``share`` (0..1, clamped) of them filled, rounded half up."""
    if width < 0:
        raise ValueError(f"bar width must not be negative, got {width}")
    if math.isnan(share):
        share = 0.0
    clamped = min(max(share, 0.0), 1.0)
    # round to 9 places first so 0.35 * 10 == 3.4999999... still counts as a half
    filled = math.floor(round(clamped * width, 9) + 0.5)
    return BAR_FILLED * filled + BAR_EMPTY * (width - filled)


def format_count(n: int) -> str:
    """A count with thousands separated by commas: 1234567 -> "1,234,567"."""
    return f"{n:,}"
