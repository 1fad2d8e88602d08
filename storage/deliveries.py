"""The delivery ledger: one row per (item, chat or forum topic), from queued to sent, failed or
cancelled.

Publishing an article or starting a broadcast queues a pending row for every chat and
subscribed forum topic in the audience, in one INSERT ... SELECT inside the caller's
transaction (so the item and its ledger commit together, and nothing loads the audience into
memory). The delivery engine then claims batches of due rows ('pending' -> 'sending'), sends,
and records each outcome. Rows left 'sending' by a process that died go back to 'pending'
when the next one starts, or (several processes, docs/DEPLOY.md) once the claimer's heartbeat
has expired.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.leases import WORKER_PREFIX
from storage.models import (
    Article,
    Chat,
    ChatKind,
    Delivery,
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    ForumTopic,
    Lease,
)
from storage.sections import follows_any
from storage.types import UTCDateTime, utcnow

# Why a row was cancelled without a send: its chat stopped receiving pushes before its turn.
CHAT_INACTIVE = "chat_inactive"
# Why a row was cancelled by an admin (/cancel).
CANCELLED_BY_ADMIN = "cancelled"

_QUEUED_COLUMNS = [
    "kind",
    "article_id",
    "broadcast_id",
    "chat_id",
    "thread_id",
    "status",
    "attempts",
]


@dataclass(frozen=True)
class ClaimedDelivery:
    """A row the engine now owns ('sending'): what to send, to whom, and the how-manieth try."""

    id: int
    kind: DeliveryKind
    item_id: int
    chat_id: int
    attempts: int
    # The forum topic it goes to (message_thread_id); 0 for the chat itself.
    thread_id: int = 0


@dataclass(frozen=True)
class SentRow:
    delivery_id: int
    message_id: int


@dataclass(frozen=True)
class EndedRow:
    """A row that ends without a message: failed (Telegram refused) or cancelled (skipped)."""

    delivery_id: int
    status: DeliveryStatus
    failure: str
    error: str | None = None


@dataclass(frozen=True)
class RetryRow:
    """A row that goes back to pending, due again at `not_before`."""

    delivery_id: int
    not_before: datetime
    failure: str
    error: str | None = None


def _chat_conditions(
    session: AsyncSession, kinds: Collection[ChatKind], sections: Collection[str]
) -> list[sa.ColumnElement[bool]]:
    """Conditions on Chat shared by its own subscription and its topics': optionally of some
    kinds, following some sections."""
    conditions: list[sa.ColumnElement[bool]] = [col(Chat.active).is_(True)]
    if kinds:
        conditions.append(col(Chat.kind).in_([ChatKind(kind) for kind in kinds]))
    if sections:
        conditions.append(follows_any(session, list(sections)))
    return conditions


def _targets(conditions: list[sa.ColumnElement[bool]]) -> sa.Subquery:
    """Where pushes go: each chat subscribed itself (topic 0), and each subscribed topic of a
    forum whose chat still has the bot; one row per (chat_id, thread_id)."""
    chats: sa.Select[int, int] = sa.select(
        col(Chat.id).label("chat_id"), sa.literal(0, sa.Integer()).label("thread_id")
    ).where(col(Chat.subscribed).is_(True), *conditions)
    topics = (
        select(col(ForumTopic.chat_id), col(ForumTopic.thread_id))
        .join(Chat, col(Chat.id) == col(ForumTopic.chat_id))
        .where(col(ForumTopic.subscribed).is_(True), col(ForumTopic.active).is_(True), *conditions)
    )
    return sa.union_all(chats, topics).subquery("targets")


async def _queue(
    session: AsyncSession,
    *,
    kind: DeliveryKind,
    article_id: int | None,
    broadcast_id: int | None,
    targets: sa.Subquery,
) -> int:
    now = utcnow()
    item = col(Delivery.article_id) if kind is DeliveryKind.ARTICLE else col(Delivery.broadcast_id)
    item_id = article_id if kind is DeliveryKind.ARTICLE else broadcast_id
    already = select(col(Delivery.id)).where(
        item == item_id,
        col(Delivery.chat_id) == targets.c.chat_id,
        col(Delivery.thread_id) == targets.c.thread_id,
    )
    source = (
        sa.select(
            sa.literal(kind.value),
            sa.literal(article_id, sa.Integer()),
            sa.literal(broadcast_id, sa.Integer()),
            targets.c.chat_id,
            targets.c.thread_id,
            sa.literal(DeliveryStatus.PENDING.value),
            sa.literal(0),
            sa.literal(now, UTCDateTime()),
            sa.literal(now, UTCDateTime()),
        )
        .where(~sa.exists(already))
        .order_by(targets.c.chat_id, targets.c.thread_id)
    )
    statement = sa.insert(Delivery).from_select(
        [*_QUEUED_COLUMNS, "created_at", "updated_at"], source
    )
    result = await session.exec(statement)
    return int(result.rowcount)


async def queue_article(session: AsyncSession, *, article_id: int) -> int:
    """Queue the article for every active subscriber (chat or forum topic) that does not have
    it yet, takes articles one by one (digest readers get it in their digest) and follows one
    of its sections (or all of them).

    One INSERT ... SELECT; the caller marks the article published in the same transaction.
    Returns how many deliveries were queued.
    """
    article = await session.get(Article, article_id)
    sections = list(article.topics) if article is not None else []
    conditions = [
        col(Chat.delivery_mode) == DeliveryMode.INSTANT,
        # An article with no sections is for everyone; one with sections, for their followers.
        *_chat_conditions(session, kinds=(), sections=sections),
    ]
    return await _queue(
        session,
        kind=DeliveryKind.ARTICLE,
        article_id=article_id,
        broadcast_id=None,
        targets=_targets(conditions),
    )


async def queue_broadcast(
    session: AsyncSession,
    *,
    broadcast_id: int,
    kinds: Collection[ChatKind] = (),
    topics: Collection[str] = (),
) -> int:
    """Queue the broadcast for its audience (every kind and section when empty); how many."""
    return await _queue(
        session,
        kind=DeliveryKind.BROADCAST,
        article_id=None,
        broadcast_id=broadcast_id,
        targets=_targets(_chat_conditions(session, kinds, topics)),
    )


async def count_audience(
    session: AsyncSession, *, kinds: Collection[ChatKind] = (), topics: Collection[str] = ()
) -> int:
    """How many chats and forum topics a broadcast with these targets would reach now."""
    targets = _targets(_chat_conditions(session, kinds, topics))
    statement = select(sa.func.count()).select_from(targets)
    return int((await session.exec(statement)).one())


async def release_in_flight(
    session: AsyncSession, *, keep_live_claims: bool = False, except_claimer: str | None = None
) -> int:
    """Rows a dead process left 'sending' go back to 'pending'; returns how many.

    Without `keep_live_claims` call only when no engine is running. With it (several
    processes), rows claimed by a worker whose heartbeat lease is live stay theirs. Their
    outcome is unknown, so each may be sent again: that is the documented duplicate bound (at
    most the engine's unrecorded sends per dead process).
    """
    conditions = [col(Delivery.status) == DeliveryStatus.SENDING]
    if except_claimer is not None:
        # The caller's own claims are still being sent by the caller.
        conditions.append(
            sa.or_(col(Delivery.claimed_by).is_(None), col(Delivery.claimed_by) != except_claimer)
        )
    if keep_live_claims:
        live = select(col(Lease.holder)).where(
            col(Lease.name).startswith(WORKER_PREFIX), col(Lease.expires_at) > utcnow()
        )
        conditions.append(
            sa.or_(col(Delivery.claimed_by).is_(None), col(Delivery.claimed_by).not_in(live))
        )
    result = await session.exec(
        sa.update(Delivery)
        .where(*conditions)
        .values(status=DeliveryStatus.PENDING, updated_at=utcnow())
    )
    return int(result.rowcount)


def _table() -> sa.Table:
    table: sa.Table = Delivery.__table__  # type: ignore[attr-defined]
    return table


def _claim_statement(*, skip_locked: bool) -> sa.Update:
    rows = _table().c
    due = (
        sa.select(rows.id)
        .where(
            rows.status == DeliveryStatus.PENDING,
            sa.or_(rows.not_before.is_(None), rows.not_before <= sa.bindparam("now")),
        )
        .order_by(rows.id)
        .limit(sa.bindparam("how_many", type_=sa.Integer()))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    # Whether the row's chat still receives pushes, looked up by primary key only (a condition
    # on `active` could steer the planner to the (active, kind) index and a scan of every
    # subscriber). Spelled out: SQLAlchemy drops the table names inside SQLite's RETURNING.
    chat_active = sa.literal_column(
        "(SELECT chats.active FROM chats WHERE chats.id = deliveries.chat_id)", sa.Boolean()
    )
    return (
        sa.update(_table())
        .where(rows.id.in_(due.scalar_subquery()))
        .values(
            status=DeliveryStatus.SENDING,
            attempts=rows.attempts + 1,
            updated_at=sa.bindparam("now"),
            claimed_by=sa.bindparam("claimer"),
        )
        .returning(
            rows.id,
            rows.kind,
            rows.article_id,
            rows.broadcast_id,
            rows.digest_id,
            rows.chat_id,
            rows.attempts,
            chat_active,
            rows.thread_id,
        )
    )


def _mark_sent_from_arrays() -> sa.Update:
    """PostgreSQL: every row of a batch in one statement, from two arrays of equal length."""
    rows = _table().c
    sent = (
        sa.func.unnest(
            sa.bindparam("row_ids", type_=postgresql.ARRAY(sa.Integer())),
            sa.bindparam("message_ids", type_=postgresql.ARRAY(sa.Integer())),
        )
        .table_valued("row_id", "message_id")
        .render_derived(name="sent")
    )
    return (
        sa.update(_table())
        .where(rows.id == sent.c.row_id, rows.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.SENT,
            message_id=sent.c.message_id,
            sent_at=sa.bindparam("now"),
            updated_at=sa.bindparam("now"),
            failure=None,
            not_before=None,
        )
    )


# Core statements built once: the engine runs them many times a second during a fan-out, and
# the ORM's per-statement work would cost more than the database's.
_CLAIM = _claim_statement(skip_locked=False)
# PostgreSQL: several processes claim at once, each skipping rows another one holds.
_CLAIM_SKIP_LOCKED = _claim_statement(skip_locked=True)
# SQLite runs an executemany in one C loop; PostgreSQL would run each row as a statement.
_MARK_SENT_ROWS = (
    sa.update(_table())
    .where(_table().c.id == sa.bindparam("row_id"), _table().c.status == DeliveryStatus.SENDING)
    .values(
        status=DeliveryStatus.SENT,
        message_id=sa.bindparam("sent_message_id"),
        sent_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
        failure=None,
        not_before=None,
    )
)
_MARK_SENT_ARRAYS = _mark_sent_from_arrays()
_END = (
    sa.update(_table())
    .where(_table().c.id == sa.bindparam("row_id"))
    .values(
        status=sa.bindparam("new_status"),
        failure=sa.bindparam("reason"),
        last_error=sa.bindparam("error"),
        updated_at=sa.bindparam("now"),
    )
)
_RETRY = (
    sa.update(_table())
    .where(_table().c.id == sa.bindparam("row_id"), _table().c.status == DeliveryStatus.SENDING)
    .values(
        status=DeliveryStatus.PENDING,
        not_before=sa.bindparam("due"),
        failure=sa.bindparam("reason"),
        last_error=sa.bindparam("error"),
        updated_at=sa.bindparam("now"),
    )
)


async def claim_due(
    session: AsyncSession,
    *,
    limit: int,
    claimer: str | None = None,
    now: datetime | None = None,
) -> list[ClaimedDelivery]:
    """Claim up to `limit` of the oldest rows pending and due at `now` (default: the current
    time) ('pending' -> 'sending') for the bot process `claimer`.

    Rows whose chat stopped receiving pushes are cancelled instead of returned. On PostgreSQL
    the claim skips rows other claimers hold (FOR UPDATE SKIP LOCKED); SQLite has one writer.
    """
    if limit <= 0:
        return []
    connection = await session.connection()
    statement = _CLAIM_SKIP_LOCKED if connection.dialect.name == "postgresql" else _CLAIM
    claimed = await connection.execute(
        statement, {"now": now or utcnow(), "how_many": limit, "claimer": claimer}
    )
    rows: list[ClaimedDelivery] = []
    skipped: list[EndedRow] = []
    for row in claimed.all():
        row_id, kind, article_id, broadcast_id, digest_id, chat_id, attempts, active, thread = row
        if not active:
            skipped.append(EndedRow(row_id, DeliveryStatus.CANCELLED, CHAT_INACTIVE))
            continue
        # The one item the row carries: its article, broadcast or digest.
        item_id = article_id or broadcast_id or digest_id
        rows.append(ClaimedDelivery(row_id, kind, item_id, chat_id, attempts, thread))
    await end_rows(session, rows=skipped)
    rows.sort(key=lambda row: row.id)
    return rows


async def mark_sent(session: AsyncSession, *, rows: Sequence[SentRow]) -> None:
    """Record sends Telegram accepted, with the message id each got (one statement)."""
    if not rows:
        return
    now = utcnow()
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            _MARK_SENT_ARRAYS,
            {
                "row_ids": [row.delivery_id for row in rows],
                "message_ids": [row.message_id for row in rows],
                "now": now,
            },
        )
        return
    await connection.execute(
        _MARK_SENT_ROWS,
        [
            {"row_id": row.delivery_id, "sent_message_id": row.message_id, "now": now}
            for row in rows
        ],
    )


async def end_rows(session: AsyncSession, *, rows: Sequence[EndedRow]) -> None:
    """Record rows that end failed or cancelled, each with its reason."""
    if not rows:
        return
    now = utcnow()
    connection = await session.connection()
    await connection.execute(
        _END,
        [
            {
                "row_id": row.delivery_id,
                "new_status": row.status.value,
                "reason": row.failure,
                "error": _short(row.error),
                "now": now,
            }
            for row in rows
        ],
    )


async def retry_rows(session: AsyncSession, *, rows: Sequence[RetryRow]) -> None:
    """Put rows back to pending, each due again at its `not_before`."""
    if not rows:
        return
    now = utcnow()
    connection = await session.connection()
    await connection.execute(
        _RETRY,
        [
            {
                "row_id": row.delivery_id,
                "due": row.not_before,
                "reason": row.failure,
                "error": _short(row.error),
                "now": now,
            }
            for row in rows
        ],
    )


def _short(error: str | None) -> str | None:
    # Telegram's texts are short; anything else is cut so one odd error cannot bloat the ledger.
    return error[:500] if error is not None else None


async def cancel_broadcast_rows(session: AsyncSession, *, broadcast_id: int) -> int:
    """Cancel the broadcast's pending rows (rows in flight finish and keep their outcome)."""
    result = await session.exec(
        sa.update(Delivery)
        .where(
            col(Delivery.broadcast_id) == broadcast_id,
            col(Delivery.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED, failure=CANCELLED_BY_ADMIN, updated_at=utcnow())
    )
    return int(result.rowcount)


async def broadcast_row_counts(
    session: AsyncSession, *, broadcast_id: int
) -> dict[tuple[DeliveryStatus, str | None], int]:
    """The broadcast's rows counted by status and failure (read from one index)."""
    statement = (
        select(col(Delivery.status), col(Delivery.failure), sa.func.count())
        .where(col(Delivery.broadcast_id) == broadcast_id)
        .group_by(col(Delivery.status), col(Delivery.failure))
    )
    return {
        (DeliveryStatus(status), failure): count
        for status, failure, count in await session.exec(statement)
    }


async def delivery_counts(
    session: AsyncSession,
) -> dict[tuple[DeliveryKind, DeliveryStatus, str | None], int]:
    """Every row of the ledger counted by kind, status and failure."""
    statement = select(
        col(Delivery.kind), col(Delivery.status), col(Delivery.failure), sa.func.count()
    ).group_by(col(Delivery.kind), col(Delivery.status), col(Delivery.failure))
    return {
        (DeliveryKind(kind), DeliveryStatus(status), failure): count
        for kind, status, failure, count in await session.exec(statement)
    }


async def has_due_rows(session: AsyncSession) -> bool:
    """Whether any row is pending (due now or later)."""
    statement = select(col(Delivery.id)).where(col(Delivery.status) == DeliveryStatus.PENDING)
    return (await session.exec(statement.limit(1))).first() is not None
