"""The delivery ledger: one row per (item, chat), from queued to sent, failed or cancelled.

Publishing an article or starting a broadcast queues a pending row for every chat in the
audience, in one INSERT ... SELECT inside the caller's transaction (so the item and its ledger
commit together, and nothing loads the audience into memory). The delivery engine then claims
batches of due rows ('pending' -> 'sending'), sends, and records each outcome. Rows left
'sending' by a process that died go back to 'pending' when the next one starts, or (several
processes, docs/DEPLOY.md) once the claimer's heartbeat has expired.

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
    Chat,
    ChatKind,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Lease,
)
from storage.types import UTCDateTime, utcnow

# Why a row was cancelled without a send: its chat stopped receiving pushes before its turn.
CHAT_INACTIVE = "chat_inactive"
# Why a row was cancelled by an admin (/cancel).
CANCELLED_BY_ADMIN = "cancelled"

_QUEUED_COLUMNS = ["kind", "article_id", "broadcast_id", "chat_id", "status", "attempts"]


@dataclass(frozen=True)
class ClaimedDelivery:
    """A row the engine now owns ('sending'): what to send, to whom, and the how-manieth try."""

    id: int
    kind: DeliveryKind
    item_id: int
    chat_id: int
    attempts: int


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


def _audience(
    session: AsyncSession, kinds: Collection[ChatKind] = (), topics: Collection[str] = ()
) -> list[sa.ColumnElement[bool]]:
    """Conditions on Chat: active and subscribed, optionally of some kinds and topics."""
    conditions: list[sa.ColumnElement[bool]] = [
        col(Chat.active).is_(True),
        col(Chat.subscribed).is_(True),
    ]
    if kinds:
        conditions.append(col(Chat.kind).in_([ChatKind(kind) for kind in kinds]))
    if topics:
        conditions.append(_follows_any(session, list(topics)))
    return conditions


def _follows_any(session: AsyncSession, topics: list[str]) -> sa.ColumnElement[bool]:
    # Chat.topics is a JSON array; each dialect spells "its elements" with its own function.
    if session.get_bind().dialect.name == "postgresql":
        elements = sa.func.json_array_elements_text(col(Chat.topics)).table_valued("value")
    else:
        elements = sa.func.json_each(col(Chat.topics)).table_valued("value")
    return sa.exists(
        select(sa.literal(1)).select_from(elements).where(elements.c.value.in_(topics))
    )


async def _queue(
    session: AsyncSession,
    *,
    kind: DeliveryKind,
    article_id: int | None,
    broadcast_id: int | None,
    audience: list[sa.ColumnElement[bool]],
) -> int:
    now = utcnow()
    item = col(Delivery.article_id) if kind is DeliveryKind.ARTICLE else col(Delivery.broadcast_id)
    item_id = article_id if kind is DeliveryKind.ARTICLE else broadcast_id
    already = select(col(Delivery.id)).where(
        item == item_id, col(Delivery.chat_id) == col(Chat.id)
    )
    source = (
        sa.select(
            sa.literal(kind.value),
            sa.literal(article_id, sa.Integer()),
            sa.literal(broadcast_id, sa.Integer()),
            col(Chat.id),
            sa.literal(DeliveryStatus.PENDING.value),
            sa.literal(0),
            sa.literal(now, UTCDateTime()),
            sa.literal(now, UTCDateTime()),
        )
        .where(*audience, ~sa.exists(already))
        .order_by(col(Chat.id))
    )
    statement = sa.insert(Delivery).from_select(
        [*_QUEUED_COLUMNS, "created_at", "updated_at"], source
    )
    result = await session.exec(statement)
    return int(result.rowcount)


async def queue_article(session: AsyncSession, *, article_id: int) -> int:
    """Queue the article for every active subscribed chat that does not have it yet.

    One INSERT ... SELECT; the caller marks the article published in the same transaction.
    Returns how many deliveries were queued.
    """
    return await _queue(
        session,
        kind=DeliveryKind.ARTICLE,
        article_id=article_id,
        broadcast_id=None,
        audience=_audience(session),
    )


async def queue_broadcast(
    session: AsyncSession,
    *,
    broadcast_id: int,
    kinds: Collection[ChatKind] = (),
    topics: Collection[str] = (),
) -> int:
    """Queue the broadcast for its audience (all kinds and topics when empty); how many."""
    return await _queue(
        session,
        kind=DeliveryKind.BROADCAST,
        article_id=None,
        broadcast_id=broadcast_id,
        audience=_audience(session, kinds, topics),
    )


async def count_audience(
    session: AsyncSession, *, kinds: Collection[ChatKind] = (), topics: Collection[str] = ()
) -> int:
    """How many chats a broadcast with these targets would reach now."""
    statement = select(sa.func.count()).select_from(Chat).where(*_audience(session, kinds, topics))
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
            rows.chat_id,
            rows.attempts,
            chat_active,
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
    session: AsyncSession, *, limit: int, claimer: str | None = None
) -> list[ClaimedDelivery]:
    """Claim up to `limit` of the oldest due pending rows ('pending' -> 'sending') for the bot
    process `claimer`.

    Rows whose chat stopped receiving pushes are cancelled instead of returned. On PostgreSQL
    the claim skips rows other claimers hold (FOR UPDATE SKIP LOCKED); SQLite has one writer.
    """
    if limit <= 0:
        return []
    connection = await session.connection()
    statement = _CLAIM_SKIP_LOCKED if connection.dialect.name == "postgresql" else _CLAIM
    claimed = await connection.execute(
        statement, {"now": utcnow(), "how_many": limit, "claimer": claimer}
    )
    rows: list[ClaimedDelivery] = []
    skipped: list[EndedRow] = []
    for row_id, kind, article_id, broadcast_id, chat_id, attempts, active in claimed.all():
        if not active:
            skipped.append(EndedRow(row_id, DeliveryStatus.CANCELLED, CHAT_INACTIVE))
            continue
        item_id = article_id if article_id is not None else broadcast_id
        rows.append(ClaimedDelivery(row_id, kind, item_id, chat_id, attempts))
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
