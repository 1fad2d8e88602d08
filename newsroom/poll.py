"""A reader poll as one plain value: what a poll shows now, and how many options a poll may have.

``PollView`` is what the bot renders (``bot.polls.view``) and storage reads back from the
database (``storage.polls``); the tally inside it is ``newsroom.tally``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsroom.tally import Tally

# Telegram's own poll limit (sendPoll); callback data also counts on one digit per position.
MAX_POLL_OPTIONS = 10


@dataclass(frozen=True)
class PollView:
    """Everything needed to show one poll: its texts, its tally and how results are shown."""

    poll_id: int
    question: str
    options: tuple[str, ...]
    tally: Tally
    closed: bool
    # False: counts stay out of the message until the poll closes; voters see them in a toast
    results_visible: bool

    def __post_init__(self) -> None:
        if not 1 <= len(self.options) <= MAX_POLL_OPTIONS:
            raise ValueError(f"a poll has 1..{MAX_POLL_OPTIONS} options, got {len(self.options)}")
        if len(self.tally.counts) != len(self.options):
            raise ValueError("the tally must have one count per option")

    @property
    def shows_results(self) -> bool:
        """Whether counts and percentages are public: always once the poll is closed."""
        return self.results_visible or self.closed
