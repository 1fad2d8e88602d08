"""What an article's readers did, as plain values: reach, taps, reactions, shares, opens, clicks.

Storage counts these in SQL (`storage/engagement.py`); the reports and charts an editor reads
(`bot/reports/`) and the CSV export are made from them. Nothing here names a reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ReactionKind(StrEnum):
    """Telegram's reaction types: a standard emoji, a custom emoji (by id), or a paid star."""

    EMOJI = "emoji"
    CUSTOM = "custom"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class ReactionCount:
    """How many times one reaction stands under the copies counted (`key`: the emoji, the
    custom emoji's id, or "paid")."""

    kind: ReactionKind
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class ChatReach:
    """Deliveries of the article to one kind of chat (private, group, supergroup, channel)."""

    chat_kind: str
    sent: int
    failed: int
    blocked: int


@dataclass(frozen=True, slots=True)
class PerChat:
    """One chat's share of an article, for the export: its title and kind, never its members."""

    title: str
    chat_kind: str
    votes: int
    reactions: int


@dataclass(frozen=True)
class ArticleEngagement:
    """Everything an editor's report on one article shows."""

    article_id: int
    title: str
    published_at: datetime | None
    reach: tuple[ChatReach, ...]
    # Poll: None when the article has none; options in order with their counts.
    question: str | None
    options: tuple[str, ...]
    option_counts: tuple[int, ...]
    voters: int
    # When each current vote was cast, and when each copy went out: the report's two curves.
    vote_times: tuple[datetime, ...]
    delivery_times: tuple[datetime, ...]
    reactions: tuple[ReactionCount, ...]
    shares: int
    opens: int
    autocards: int
    clicks: int | None  # None when link tracking is off
    per_chat: tuple[PerChat, ...] = field(default=())

    @property
    def reached(self) -> int:
        """Chats the article reached (copies sent)."""
        return sum(row.sent for row in self.reach)

    @property
    def reaction_total(self) -> int:
        return sum(reaction.count for reaction in self.reactions)

    def per_hundred(self, count: int) -> float:
        """`count` per 100 deliveries (0 when nothing was delivered)."""
        return 100 * count / self.reached if self.reached else 0.0


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """One row of the weekly overview: an article and its main numbers."""

    article_id: int
    title: str
    reached: int
    voters: int
    reactions: int
    shares: int


@dataclass(frozen=True, slots=True)
class SubscriberDay:
    """Active subscribers at the end of one day, by chat kind."""

    day: datetime
    by_kind: dict[str, int]
