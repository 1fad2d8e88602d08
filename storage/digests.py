"""Digests: the chats (and forum topics) that take their articles as a daily or weekly digest,
the articles one digest lists, and each period's digest created once with its ledger row.

A digest covers the articles published in its window (from the previous digest's end, or for
a chat's first digest one period back but not before it subscribed, up to the period's due
time) that the chat follows (every section when it follows none; an article without sections
is for everyone) and that the chat did not already get as a card of its own. Creating a digest
inserts the `digests` row and its `deliveries` row (kind digest) together; the unique key
(chat, topic, period) makes a second digest for the same period impossible, whoever tries.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Mapped
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Article,
    ArticleStatus,
    Chat,
    Delivery,
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    Digest,
    ForumTopic,
)
from storage.types import utcnow

DIGEST_MODES = (DeliveryMode.DAILY, DeliveryMode.WEEKLY)


@dataclass(frozen=True)
class DigestTarget:
    """A chat (thread 0) or forum topic that takes digests, with what deciding its next needs."""

    chat_id: int
    thread_id: int
    mode: DeliveryMode
    hour: int | None
    weekday: int | None
    timezone: str | None
    sections: tuple[str, ...]
    subscribed_at: datetime | None
    # Where the previous digest's window ended (None: the chat has had no digest yet).
    last_window_end: datetime | None


@dataclass(frozen=True)
class DigestArticle:
    """One line of a digest: the article's id (for its deep link), headline and standfirst."""

    id: int
    title: str
    standfirst: str | None


def _last_window_end(
    chat_id: Mapped[int], thread_id: Mapped[int] | sa.ColumnElement[int]
) -> sa.ScalarSelect[datetime]:
    """Where the target's latest digest window ended (NULL: it has had none)."""
    return (
        sa.select(sa.func.max(col(Digest.window_end)))
        .where(col(Digest.chat_id) == chat_id, col(Digest.thread_id) == thread_id)
        .scalar_subquery()
    )


async def digest_targets(session: AsyncSession) -> list[DigestTarget]:
    """Every active chat subscribed itself, and every subscribed active topic of an active
    chat, whose chat takes digests."""
    wants_digests = [col(Chat.active).is_(True), col(Chat.delivery_mode).in_(DIGEST_MODES)]
    chat_fields = (
        col(Chat.delivery_mode),
        col(Chat.digest_hour),
        col(Chat.digest_weekday),
        col(Chat.timezone),
        col(Chat.topics),
    )
    chats = sa.select(
        col(Chat.id),
        sa.literal(0).label("thread_id"),
        *chat_fields,
        col(Chat.subscribed_at),
        _last_window_end(col(Chat.id), sa.literal(0)),
    ).where(col(Chat.subscribed).is_(True), *wants_digests)
    topics = (
        sa.select(
            col(ForumTopic.chat_id),
            col(ForumTopic.thread_id),
            *chat_fields,
            col(ForumTopic.subscribed_at),
            _last_window_end(col(ForumTopic.chat_id), col(ForumTopic.thread_id)),
        )
        .join(Chat, col(Chat.id) == col(ForumTopic.chat_id))
        .where(col(ForumTopic.subscribed).is_(True), col(ForumTopic.active).is_(True))
        .where(*wants_digests)
    )
    connection = await session.connection()
    rows = (await connection.execute(sa.union_all(chats, topics))).all()
    return [_target(row) for row in rows]


def _target(row: Any) -> DigestTarget:
    chat_id, thread_id, mode, hour, weekday, timezone, sections, subscribed_at, last_end = row
    return DigestTarget(
        chat_id=chat_id,
        thread_id=thread_id,
        mode=DeliveryMode(mode),
        hour=hour,
        weekday=weekday,
        timezone=timezone,
        sections=tuple(sections or ()),
        subscribed_at=subscribed_at,
        last_window_end=last_end,
    )


def _follows(session: AsyncSession, sections: Sequence[str]) -> sa.ColumnElement[bool]:
    """The article is for a chat following `sections`: it has none, or one of them."""
    if session.get_bind().dialect.name == "postgresql":
        elements = sa.func.json_array_elements_text(col(Article.topics)).table_valued("value")
    else:
        elements = sa.func.json_each(col(Article.topics)).table_valued("value")
    return sa.or_(
        sa.func.json_array_length(col(Article.topics)) == 0,
        sa.exists(
            select(sa.literal(1)).select_from(elements).where(elements.c.value.in_(list(sections)))
        ),
    )


def _articles_for(
    session: AsyncSession,
    *,
    chat_id: int,
    thread_id: int,
    window_start: datetime,
    window_end: datetime,
    sections: Sequence[str],
) -> list[sa.ColumnElement[bool]]:
    already_carded = select(col(Delivery.id)).where(
        col(Delivery.article_id) == col(Article.id),
        col(Delivery.chat_id) == chat_id,
        col(Delivery.thread_id) == thread_id,
    )
    conditions = [
        col(Article.status) == ArticleStatus.PUBLISHED,
        col(Article.pushed_at) >= window_start,
        col(Article.pushed_at) < window_end,
        ~sa.exists(already_carded),
    ]
    if sections:
        conditions.append(_follows(session, sections))
    return conditions


async def digest_articles(session: AsyncSession, *, digest: Digest) -> list[DigestArticle]:
    """The articles the digest lists, oldest first, for the sections its chat follows now."""
    chat = await session.get(Chat, digest.chat_id)
    sections = tuple(chat.topics) if chat is not None else ()
    statement = (
        select(col(Article.id), col(Article.title), col(Article.standfirst))
        .where(
            *_articles_for(
                session,
                chat_id=digest.chat_id,
                thread_id=digest.thread_id,
                window_start=digest.window_start,
                window_end=digest.window_end,
                sections=sections,
            )
        )
        .order_by(col(Article.pushed_at), col(Article.id))
    )
    return [
        DigestArticle(article_id, title, standfirst)
        for article_id, title, standfirst in await session.exec(statement)
        if article_id is not None
    ]


async def create_digest(
    session: AsyncSession,
    *,
    target: DigestTarget,
    period: str,
    window_start: datetime,
    window_end: datetime,
) -> Digest | None:
    """The period's digest for the target and its pending ledger row, when its window holds an
    article for it and no digest of that period exists yet; otherwise None and nothing stored."""
    if window_start >= window_end:
        return None
    anything = select(col(Article.id)).where(
        *_articles_for(
            session,
            chat_id=target.chat_id,
            thread_id=target.thread_id,
            window_start=window_start,
            window_end=window_end,
            sections=target.sections,
        )
    )
    if (await session.exec(anything.limit(1))).first() is None:
        return None
    now = utcnow()
    values = {
        "chat_id": target.chat_id,
        "thread_id": target.thread_id,
        "period": period,
        "window_start": window_start,
        "window_end": window_end,
        "created_at": now,
    }
    insert = _insert_ignoring_conflict(session, values)
    digest_id = (await session.exec(insert)).scalar_one_or_none()
    if digest_id is None:
        # Another round (or another worker) made this period's digest first.
        return None
    session.add(
        Delivery(
            kind=DeliveryKind.DIGEST,
            digest_id=digest_id,
            chat_id=target.chat_id,
            thread_id=target.thread_id,
            status=DeliveryStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return await session.get(Digest, digest_id)


def _insert_ignoring_conflict(session: AsyncSession, values: dict[str, object]) -> sa.Insert:
    """INSERT ... ON CONFLICT (chat, topic, period) DO NOTHING RETURNING id, in the session's
    dialect."""
    keys = ["chat_id", "thread_id", "period"]
    if session.get_bind().dialect.name == "postgresql":
        # Imported here: the PostgreSQL dialect is slow to load; SQLite deployments never use it.
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415

        pg = postgresql.insert(Digest).values(values).on_conflict_do_nothing(index_elements=keys)
        return pg.returning(col(Digest.id))
    lite = sqlite.insert(Digest).values(values).on_conflict_do_nothing(index_elements=keys)
    return lite.returning(col(Digest.id))


async def get_digest(session: AsyncSession, *, digest_id: int) -> Digest | None:
    return await session.get(Digest, digest_id)


async def record_part_sent(
    session: AsyncSession, *, digest_id: int, parts_sent: int, message_id: int
) -> None:
    """The digest's first `parts_sent` messages are out, the last of them `message_id`."""
    await session.exec(
        sa.update(Digest)
        .where(col(Digest.id) == digest_id)
        .values(parts_sent=parts_sent, last_message_id=message_id)
    )
