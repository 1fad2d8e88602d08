"""Engagement values of an invented article, for the report charts, caption and export tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from newsroom.engagement import (
    ArticleEngagement,
    ChatReach,
    PerChat,
    ReactionCount,
    ReactionKind,
)

PUBLISHED = datetime(2025, 5, 14, 8, 0, tzinfo=UTC)


def tram_depot_engagement() -> ArticleEngagement:
    """A day of an invented local story: 1,240 copies, 312 votes, 116 reactions."""
    rnd = random.Random(7)  # the same numbers, so the same chart, on every run
    deliveries = sorted(
        PUBLISHED + timedelta(seconds=rnd.expovariate(1 / 400)) for _ in range(1240)
    )
    votes = sorted(
        PUBLISHED + timedelta(seconds=300 + rnd.expovariate(1 / (3600 * 5))) for _ in range(312)
    )
    return ArticleEngagement(
        article_id=42,
        title="Town council votes to turn the old tram depot into a night market",
        published_at=PUBLISHED,
        reach=(
            ChatReach("private", sent=1100, failed=9, blocked=5),
            ChatReach("group", sent=92, failed=3, blocked=0),
            ChatReach("supergroup", sent=38, failed=1, blocked=0),
            ChatReach("channel", sent=10, failed=0, blocked=0),
        ),
        question="Would you visit a night market at the depot?",
        options=(
            "Yes, every week",
            "Now and then",
            "Probably not",
            "I'd rather it stayed a depot",
        ),
        option_counts=(131, 104, 52, 25),
        voters=312,
        vote_times=tuple(votes),
        delivery_times=tuple(deliveries),
        reactions=(
            ReactionCount(ReactionKind.EMOJI, "👍", 48),
            ReactionCount(ReactionKind.EMOJI, "❤", 31),
            ReactionCount(ReactionKind.EMOJI, "🔥", 17),
            ReactionCount(ReactionKind.EMOJI, "😁", 9),
            ReactionCount(ReactionKind.EMOJI, "🤔", 6),
            ReactionCount(ReactionKind.CUSTOM, "5368324170671202286", 3),
            ReactionCount(ReactionKind.PAID, "paid", 2),
        ),
        shares=23,
        opens=41,
        autocards=5,
        clicks=187,
        per_chat=(
            PerChat("Riverside neighbours", "group", votes=40, reactions=12),
            PerChat("Harbour Road traders", "supergroup", votes=25, reactions=0),
            PerChat("City Desk", "channel", votes=0, reactions=30),
            PerChat("Ada Lovelace", "private", votes=1, reactions=0),
            PerChat("Grace Hopper", "private", votes=1, reactions=1),
        ),
    )


def unread_engagement() -> ArticleEngagement:
    """An article just queued: no copy sent, no vote, no reaction."""
    return ArticleEngagement(
        article_id=7,
        title="Nothing has happened yet",
        published_at=PUBLISHED,
        reach=(),
        question="Did you read it?",
        options=("Yes", "No"),
        option_counts=(0, 0),
        voters=0,
        vote_times=(),
        delivery_times=(),
        reactions=(),
        shares=0,
        opens=0,
        autocards=0,
        clicks=None,
    )
