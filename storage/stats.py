"""The numbers behind /stats: subscribers (chats and forum topics) and what they chose,
articles, deliveries and votes, counted in SQL.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import deliveries, forum_topics, preferences
from storage.models import (
    Article,
    ArticleStatus,
    Chat,
    ChatKind,
    DeliveryKind,
    DeliveryStatus,
    Vote,
)


@dataclass(frozen=True)
class BotStats:
    # (kind, active) -> subscribed chats; inactive ones blocked, removed or unreachable.
    subscribers: dict[tuple[ChatKind, bool], int]
    articles_published: int
    deliveries: dict[tuple[DeliveryKind, DeliveryStatus, str | None], int]
    votes_today: int
    # Forum topics subscribed on their own, and why the ended ones ended.
    topics: forum_topics.TopicCounts
    # What the chats receiving articles chose: delivery modes and sections followed.
    choices: preferences.ReaderChoices


async def bot_stats(session: AsyncSession, *, day_start: datetime) -> BotStats:
    """Everything /stats shows; `day_start` is midnight in the bot's time zone."""
    subscribers = {
        (ChatKind(kind), bool(active)): count
        for kind, active, count in await session.exec(
            select(col(Chat.kind), col(Chat.active), sa.func.count())
            .where(col(Chat.subscribed).is_(True))
            .group_by(col(Chat.kind), col(Chat.active))
        )
    }
    published = (
        await session.exec(
            select(sa.func.count()).where(col(Article.status) == ArticleStatus.PUBLISHED)
        )
    ).one()
    votes = (
        await session.exec(select(sa.func.count()).where(col(Vote.updated_at) >= day_start))
    ).one()
    return BotStats(
        subscribers=subscribers,
        articles_published=int(published),
        deliveries=await deliveries.delivery_counts(session),
        votes_today=int(votes),
        topics=await forum_topics.topic_counts(session),
        choices=await preferences.reader_choices(session),
    )
