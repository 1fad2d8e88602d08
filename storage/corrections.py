"""Corrections and retractions: drafted by an admin, confirmed (the article changed and one
ledger row queued per copy, in one transaction), carried out row by row, finished.

A copy is a message showing the article's card: a delivered card (``deliveries``), a message
showing its poll (``poll_messages``), or a card the delivery ledger does not describe whole
(``card_copies``: shown on request, posted inline, or the photo above an image card). Each copy
gets one row in ``copy_changes`` per correction (unique), claimed 'pending' -> 'sending' by the
runner and ended 'done' or 'failed'; rows a dead process left 'sending' go back to 'pending'.
A copy sent from a card rendered before a correction (a fan-out still running) gets its row
when its send is recorded (`note_copy`).

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from newsroom.article import ArticleDraft
from storage.models import (
    Article,
    ArticleStatus,
    CardCopy,
    Chat,
    ChatKind,
    CopyChange,
    CopyChangeStatus,
    CopyOutcome,
    Correction,
    CorrectionAction,
    CorrectionStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Poll,
    PollMessage,
    RetireReason,
    StopReason,
)
from storage.types import utcnow

# Why a row ended without a call: its chat no longer has the bot (blocked, removed, moved).
CHAT_INACTIVE = "chat_inactive"
# Why an article's pending deliveries were cancelled by its retraction.
WITHDRAWN = "withdrawn"
# Chats whose messages the bot can no longer reach: their copies are not tried.
_UNREACHABLE = (
    StopReason.BLOCKED,
    StopReason.KICKED,
    StopReason.CHAT_NOT_FOUND,
    StopReason.MIGRATED,
    StopReason.LEFT,
)
# The article fields an update replaces, as the draft of a correction keeps them.
DRAFT_FIELDS = (
    "title",
    "standfirst",
    "author",
    "published_at",
    "image_url",
    "body",
    "key_points",
    "fact",
    "reading_minutes",
    "topics",
    "related",
)


class Refusal(StrEnum):
    """Why a Confirm did nothing."""

    DECIDED = "decided"  # confirmed or cancelled already
    GONE = "gone"  # the article no longer exists
    WITHDRAWN = "withdrawn"  # the article was retracted meanwhile
    CHANGED = "changed"  # another correction was confirmed since the preview


@dataclass(frozen=True)
class Confirmed:
    """What a Confirm started: the correction, and how many copies it changes."""

    correction: Correction
    copies: int
    poll_id: int | None


@dataclass(frozen=True)
class Copy:
    """One copy of an article's card, as a correction addresses it."""

    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    photo_message_id: int | None = None
    poll_message_id: int | None = None
    chat_kind: ChatKind | None = None
    # Set when the copy cannot be reached at all (its chat has no bot any more).
    unreachable: bool = False


@dataclass(frozen=True)
class ClaimedChange:
    """A row the runner now owns ('sending'): the copy, and what its correction asks."""

    id: int
    correction_id: int
    article_id: int
    action: CorrectionAction
    note: str | None
    copy: Copy
    attempts: int


@dataclass(frozen=True)
class ChangeDone:
    change_id: int
    outcome: CopyOutcome


@dataclass(frozen=True)
class ChangeFailed:
    change_id: int
    failure: str
    error: str | None = None


@dataclass(frozen=True)
class ChangeRetry:
    change_id: int
    not_before: datetime
    failure: str
    error: str | None = None


@dataclass(frozen=True)
class Counts:
    """A correction's rows folded into what its admin reads."""

    edited: int = 0
    deleted: int = 0
    notices: int = 0
    superseded: int = 0
    remaining: int = 0
    # Failed rows by reason.
    failed: tuple[tuple[str, int], ...] = ()

    @property
    def failed_total(self) -> int:
        return sum(count for _, count in self.failed)

    @property
    def done(self) -> int:
        return self.edited + self.deleted + self.notices + self.superseded + self.failed_total

    @property
    def total(self) -> int:
        return self.done + self.remaining


# --- drafts -------------------------------------------------------------------------------------


def draft_fields(draft: ArticleDraft) -> dict[str, Any]:
    """The article fields an update would store, as JSON values."""
    return {
        "title": draft.title,
        "standfirst": draft.standfirst,
        "author": draft.author,
        "published_at": draft.published_at.isoformat() if draft.published_at else None,
        "image_url": draft.image_url,
        "body": draft.body or None,
        "key_points": list(draft.key_points),
        "fact": draft.fact,
        "reading_minutes": draft.reading_minutes,
        "topics": list(draft.topics),
        "related": [{"title": link.title, "url": link.url} for link in draft.related],
    }


def with_fields(article: Article, fields: dict[str, Any]) -> Article:
    """A detached copy of the article with these draft fields in place (never added to the
    session): what the article would be once the update is confirmed."""
    values = article.model_dump()
    for name in DRAFT_FIELDS:
        if name in fields:
            values[name] = fields[name]
    if isinstance(values.get("published_at"), str):
        values["published_at"] = datetime.fromisoformat(values["published_at"])
    return Article.model_validate(values)


async def create_draft(
    session: AsyncSession,
    *,
    article: Article,
    action: CorrectionAction,
    author_id: int,
    note: str | None,
    fields: dict[str, Any] | None = None,
) -> Correction:
    """A correction waiting for the admin's Confirm; flushed so it has its id."""
    if article.id is None:
        raise ValueError("only a stored article is corrected")
    correction = Correction(
        article_id=article.id,
        action=action,
        author_id=author_id,
        note=note,
        draft=fields or {},
        based_on=article.revision,
    )
    session.add(correction)
    await session.flush()
    return correction


async def get_correction(session: AsyncSession, *, correction_id: int) -> Correction | None:
    return await session.get(Correction, correction_id)


async def cancel_draft(session: AsyncSession, *, correction_id: int) -> Correction | None:
    """Call off a correction still waiting for Confirm; None if it was decided already."""
    correction = await session.get(Correction, correction_id)
    if correction is None or correction.status is not CorrectionStatus.DRAFT:
        return None
    correction.status = CorrectionStatus.CANCELLED
    correction.finished_at = utcnow()
    session.add(correction)
    await session.flush()
    return correction


# --- copies -------------------------------------------------------------------------------------


async def _poll_id(session: AsyncSession, article_id: int) -> int | None:
    result = await session.exec(select(Poll.id).where(col(Poll.article_id) == article_id))
    return result.first()


async def poll_of(session: AsyncSession, *, article_id: int) -> int | None:
    """The id of the article's poll, if it has one."""
    return await _poll_id(session, article_id)


async def article_copies(session: AsyncSession, *, article_id: int) -> list[Copy]:
    """Every copy of the article's card the bot knows of, once each, oldest first."""
    # Each read joins the copy's chat: no list of chat ids is ever sent to the database.
    kind, active, reason = col(Chat.kind), col(Chat.active), col(Chat.stop_reason)
    moved = await _moved_groups(session)
    copies: dict[tuple[object, ...], Copy] = {}
    connection = await session.connection()
    sent = await connection.execute(
        sa.select(
            col(Delivery.chat_id),
            col(Delivery.message_id),
            col(Delivery.sent_at),
            kind,
            active,
            reason,
        )
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .where(
            col(Delivery.article_id) == article_id,
            col(Delivery.kind) == DeliveryKind.ARTICLE,
            col(Delivery.status) == DeliveryStatus.SENT,
            col(Delivery.message_id).is_not(None),
        )
        .order_by(col(Delivery.id))
    )
    for chat_id, message_id, sent_at, *state in sent:
        copy = _copy(chat_id, message_id, None, state)
        # A group's card sent before the group became this supergroup is in the old group.
        if sent_at is not None and chat_id in moved and sent_at < moved[chat_id]:
            copy = replace(copy, unreachable=True)
        copies[(chat_id, message_id)] = copy
    photos: dict[tuple[object, ...], int] = {}
    shown = await session.exec(
        select(CardCopy, kind, active, reason)
        .outerjoin(Chat, col(Chat.id) == col(CardCopy.chat_id))
        .where(col(CardCopy.article_id) == article_id)
        .order_by(col(CardCopy.id))
    )
    for card, *state in shown:
        key = _key(card.chat_id, card.message_id, card.inline_message_id)
        if card.photo_message_id is not None and card.inline_message_id is None:
            photos[key] = card.photo_message_id
        copies.setdefault(key, _copy(card.chat_id, card.message_id, card.inline_message_id, state))
    poll_messages: dict[tuple[object, ...], int] = {}
    if (poll_id := await _poll_id(session, article_id)) is not None:
        rows = await session.exec(
            select(PollMessage, kind, active, reason)
            .outerjoin(Chat, col(Chat.id) == col(PollMessage.chat_id))
            .where(col(PollMessage.poll_id) == poll_id, col(PollMessage.retired).is_(False))
            .order_by(col(PollMessage.id))
        )
        for row, *state in rows:
            if row.id is None:
                continue
            key = _key(row.chat_id, row.message_id, row.inline_message_id)
            poll_messages[key] = row.id
            copies.setdefault(
                key, _copy(row.chat_id, row.message_id, row.inline_message_id, state)
            )
    return [
        replace(copy, photo_message_id=photos.get(key), poll_message_id=poll_messages.get(key))
        for key, copy in copies.items()
    ]


def _key(chat_id: int | None, message_id: int | None, inline_id: str | None) -> tuple[object, ...]:
    return ("inline", inline_id) if inline_id is not None else (chat_id, message_id)


def _copy(chat_id: int | None, message_id: int | None, inline_id: str | None, state: Any) -> Copy:
    """A copy, with what its chat's row says: (kind, active, why it stopped), all None for a
    chat never stored (tried all the same)."""
    if inline_id is not None:
        return Copy(None, None, inline_id)
    kind, active, reason = state
    reachable = active is None or active or reason not in _UNREACHABLE
    return Copy(
        chat_id,
        message_id,
        None,
        chat_kind=ChatKind(kind) if kind is not None else None,
        unreachable=not reachable,
    )


async def _moved_groups(session: AsyncSession) -> dict[int, datetime]:
    """Supergroups that were groups before, and when they moved."""
    rows = await session.exec(
        select(col(Chat.migrated_to), col(Chat.stopped_at)).where(
            col(Chat.migrated_to).is_not(None)
        )
    )
    return {new_id: at for new_id, at in rows if new_id is not None and at is not None}


async def _chat_states(
    session: AsyncSession, chat_ids: set[int]
) -> dict[int, tuple[ChatKind | None, bool]]:
    """Each chat's kind, and whether the bot can still reach its messages."""
    if not chat_ids:
        return {}
    rows = await session.exec(
        select(col(Chat.id), col(Chat.kind), col(Chat.active), col(Chat.stop_reason)).where(
            col(Chat.id).in_(sorted(chat_ids))
        )
    )
    return {
        chat_id: (ChatKind(kind), active or reason not in _UNREACHABLE)
        for chat_id, kind, active, reason in rows
    }


async def count_copies(session: AsyncSession, *, article_id: int) -> tuple[int, int]:
    """How many copies a correction of the article would change, and how many of them it
    cannot reach (their chats no longer have the bot)."""
    copies = await article_copies(session, article_id=article_id)
    return len(copies), sum(1 for copy in copies if copy.unreachable)


def _row(correction_id: int, copy: Copy, now: datetime) -> dict[str, Any]:
    unreachable = copy.unreachable
    return {
        "correction_id": correction_id,
        "chat_id": copy.chat_id,
        "message_id": copy.message_id,
        "inline_message_id": copy.inline_message_id,
        "photo_message_id": copy.photo_message_id,
        "poll_message_id": copy.poll_message_id,
        "chat_kind": copy.chat_kind.value if copy.chat_kind is not None else None,
        "status": (CopyChangeStatus.FAILED if unreachable else CopyChangeStatus.PENDING).value,
        "outcome": CopyOutcome.FAILED.value if unreachable else None,
        "failure": CHAT_INACTIVE if unreachable else None,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


async def _queue_copies(session: AsyncSession, *, correction_id: int, copies: list[Copy]) -> None:
    if not copies:
        return
    now = utcnow()
    connection = await session.connection()
    await connection.execute(
        sa.insert(CopyChange), [_row(correction_id, copy, now) for copy in copies]
    )


# --- confirming ---------------------------------------------------------------------------------


async def confirm(
    session: AsyncSession,
    *,
    correction_id: int,
    progress_chat_id: int | None,
    progress_message_id: int | None,
    line: str | None = None,
) -> Confirmed | Refusal:
    """Carry out the admin's Confirm: the article changes (an update's fields and `line`, or
    the withdrawal) and every copy gets its row, in the caller's transaction."""
    correction = await session.get(Correction, correction_id)
    if correction is None or correction.status is not CorrectionStatus.DRAFT:
        return Refusal.DECIDED
    # Locked first: a send recorded meanwhile either commits before (and its copy is listed
    # below) or reads the new revision after (and queues its copy itself, `note_copy`).
    article = (
        await session.exec(
            select(Article).where(col(Article.id) == correction.article_id).with_for_update()
        )
    ).first()
    if article is None or article.id is None:
        return Refusal.GONE
    if article.status is ArticleStatus.WITHDRAWN:
        return Refusal.WITHDRAWN
    if article.revision != correction.based_on:
        return Refusal.CHANGED
    # Gathered first: a retraction retires the poll's messages, which are copies too.
    copies = await article_copies(session, article_id=article.id)
    now = utcnow()
    article.revision += 1
    article.updated_at = now
    poll_id = await _poll_id(session, article.id)
    if correction.action is CorrectionAction.UPDATE:
        corrected = with_fields(article, correction.draft)
        for name in DRAFT_FIELDS:
            setattr(article, name, getattr(corrected, name))
        article.correction = line
    else:
        article.status = ArticleStatus.WITHDRAWN
        await _cancel_deliveries(session, article_id=article.id)
        if poll_id is not None:
            await _close_for_good(session, poll_id=poll_id)
    session.add(article)
    await _supersede(session, article_id=article.id, by=correction_id)
    correction.status = CorrectionStatus.RUNNING
    correction.revision = article.revision
    correction.confirmed_at = now
    correction.total = len(copies)
    correction.progress_chat_id = progress_chat_id
    correction.progress_message_id = progress_message_id
    session.add(correction)
    await session.flush()
    await _queue_copies(session, correction_id=correction_id, copies=copies)
    return Confirmed(correction, len(copies), poll_id)


async def _cancel_deliveries(session: AsyncSession, *, article_id: int) -> None:
    """The withdrawn article's deliveries still waiting are never sent."""
    await session.exec(
        sa.update(Delivery)
        .where(
            col(Delivery.article_id) == article_id,
            col(Delivery.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED, failure=WITHDRAWN, updated_at=utcnow())
    )


async def _close_for_good(session: AsyncSession, *, poll_id: int) -> None:
    """Close the withdrawn article's poll (its votes stay) and stop keeping its messages live:
    they are deleted or replaced, and a final-totals edit must not undo the notice."""
    await session.exec(
        sa.update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.is_closed).is_(False))
        .values(is_closed=True, closed_at=utcnow())
    )
    await session.exec(
        sa.update(PollMessage)
        .where(col(PollMessage.poll_id) == poll_id, col(PollMessage.retired).is_(False))
        .values(retired=True, retired_reason=RetireReason.WITHDRAWN, dirty=False)
    )


async def _supersede(session: AsyncSession, *, article_id: int, by: int) -> None:
    """Rows of the article's earlier corrections still waiting: the new one covers them."""
    earlier = select(col(Correction.id)).where(
        col(Correction.article_id) == article_id, col(Correction.id) != by
    )
    await session.exec(
        sa.update(CopyChange)
        .where(
            col(CopyChange.correction_id).in_(earlier),
            col(CopyChange.status) == CopyChangeStatus.PENDING,
        )
        .values(
            status=CopyChangeStatus.DONE,
            outcome=CopyOutcome.SUPERSEDED,
            updated_at=utcnow(),
        )
    )


# --- copies sent meanwhile ----------------------------------------------------------------------


async def note_copy(
    session: AsyncSession,
    *,
    article_id: int,
    revision: int,
    chat_id: int | None = None,
    message_id: int | None = None,
    inline_message_id: str | None = None,
    photo_message_id: int | None = None,
    on_request: bool = False,
) -> bool:
    """Record a copy just posted from a card of `revision` (None when unknown, as for an
    inline copy): kept in ``card_copies`` when the delivery ledger does not describe it whole
    (`on_request`, inline, or with a photo), and queued for the article's latest correction
    when that came after the card was rendered. True when it was queued.
    """
    # A shared read lock: a Confirm (which locks the article for writing) waits for this send's
    # transaction, or this one reads the revision the Confirm gave.
    current = (
        await session.exec(
            select(col(Article.revision))
            .where(col(Article.id) == article_id)
            .with_for_update(read=True)
        )
    ).first()
    if current is None:
        return False
    if on_request or inline_message_id is not None or photo_message_id is not None:
        await _keep_copy(
            session,
            article_id=article_id,
            chat_id=chat_id,
            message_id=message_id,
            inline_message_id=inline_message_id,
            photo_message_id=photo_message_id,
        )
    if current <= revision:
        return False
    latest = (
        await session.exec(
            select(Correction)
            .where(
                col(Correction.article_id) == article_id,
                col(Correction.status).in_([CorrectionStatus.RUNNING, CorrectionStatus.DONE]),
            )
            .order_by(col(Correction.id).desc())
            .limit(1)
        )
    ).first()
    if latest is None or latest.id is None:
        return False
    poll_message_id = await _poll_message_of(
        session, article_id, chat_id, message_id, inline_message_id
    )
    copy = Copy(
        chat_id if inline_message_id is None else None,
        message_id if inline_message_id is None else None,
        inline_message_id,
        photo_message_id=photo_message_id,
        poll_message_id=poll_message_id,
        chat_kind=await _kind_of(session, chat_id) if inline_message_id is None else None,
    )
    if await _already_queued(session, latest.id, copy):
        return False
    await _queue_copies(session, correction_id=latest.id, copies=[copy])
    return True


async def _keep_copy(
    session: AsyncSession,
    *,
    article_id: int,
    chat_id: int | None,
    message_id: int | None,
    inline_message_id: str | None,
    photo_message_id: int | None,
) -> None:
    if inline_message_id is not None:
        where = col(CardCopy.inline_message_id) == inline_message_id
    else:
        where = sa.and_(col(CardCopy.chat_id) == chat_id, col(CardCopy.message_id) == message_id)
    if (await session.exec(select(CardCopy.id).where(where))).first() is not None:
        return
    session.add(
        CardCopy(
            article_id=article_id,
            chat_id=chat_id if inline_message_id is None else None,
            message_id=message_id if inline_message_id is None else None,
            inline_message_id=inline_message_id,
            photo_message_id=photo_message_id,
        )
    )
    await session.flush()


async def _poll_message_of(
    session: AsyncSession,
    article_id: int,
    chat_id: int | None,
    message_id: int | None,
    inline_message_id: str | None,
) -> int | None:
    """The live poll message this copy is, if any."""
    poll_id = await _poll_id(session, article_id)
    if poll_id is None:
        return None
    if inline_message_id is not None:
        where = col(PollMessage.inline_message_id) == inline_message_id
    else:
        where = sa.and_(
            col(PollMessage.chat_id) == chat_id, col(PollMessage.message_id) == message_id
        )
    result = await session.exec(
        select(PollMessage.id).where(where, col(PollMessage.retired).is_(False))
    )
    return result.first()


async def _kind_of(session: AsyncSession, chat_id: int | None) -> ChatKind | None:
    if chat_id is None:
        return None
    kind = (await session.exec(select(col(Chat.kind)).where(col(Chat.id) == chat_id))).first()
    return ChatKind(kind) if kind is not None else None


async def _already_queued(session: AsyncSession, correction_id: int, copy: Copy) -> bool:
    if copy.inline_message_id is not None:
        where = col(CopyChange.inline_message_id) == copy.inline_message_id
    else:
        where = sa.and_(
            col(CopyChange.chat_id) == copy.chat_id,
            col(CopyChange.message_id) == copy.message_id,
        )
    result = await session.exec(
        select(CopyChange.id).where(col(CopyChange.correction_id) == correction_id, where)
    )
    return result.first() is not None


# --- the runner's ledger ------------------------------------------------------------------------


async def release_in_flight(session: AsyncSession) -> int:
    """Rows left 'sending' (their runner stopped or died) go back to 'pending'; how many.

    Call only while no runner runs (one runs, in the leading process). The edit of such a row
    may have happened: doing it again changes nothing ("message is not modified").
    """
    result = await session.exec(
        sa.update(CopyChange)
        .where(col(CopyChange.status) == CopyChangeStatus.SENDING)
        .values(status=CopyChangeStatus.PENDING, updated_at=utcnow())
    )
    return int(result.rowcount)


async def claim_due(session: AsyncSession, *, limit: int, claimer: str) -> list[ClaimedChange]:
    """Claim up to `limit` of the oldest due pending rows ('pending' -> 'sending').

    Rows whose chat stopped having the bot meanwhile fail (chat_inactive) instead.
    """
    if limit <= 0:
        return []
    now = utcnow()
    due = (
        select(col(CopyChange.id))
        .where(
            col(CopyChange.status) == CopyChangeStatus.PENDING,
            sa.or_(col(CopyChange.not_before).is_(None), col(CopyChange.not_before) <= now),
        )
        .order_by(col(CopyChange.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.exec(due))
    if not ids:
        return []
    await session.exec(
        sa.update(CopyChange)
        .where(col(CopyChange.id).in_(ids))
        .values(
            status=CopyChangeStatus.SENDING,
            attempts=col(CopyChange.attempts) + 1,
            claimed_by=claimer,
            updated_at=now,
        )
    )
    rows = await session.exec(
        select(CopyChange, Correction)
        .join(Correction, col(Correction.id) == col(CopyChange.correction_id))
        .where(col(CopyChange.id).in_(ids))
        .order_by(col(CopyChange.id))
        .execution_options(populate_existing=True)
    )
    claimed = [(change, correction) for change, correction in rows]
    states = await _chat_states(
        session, {change.chat_id for change, _ in claimed if change.chat_id is not None}
    )
    result: list[ClaimedChange] = []
    gone: list[ChangeFailed] = []
    for change, correction in claimed:
        if change.id is None or correction.id is None:
            continue
        if change.chat_id is not None and not states.get(change.chat_id, (None, True))[1]:
            gone.append(ChangeFailed(change.id, CHAT_INACTIVE))
            continue
        copy = Copy(
            change.chat_id,
            change.message_id,
            change.inline_message_id,
            photo_message_id=change.photo_message_id,
            poll_message_id=change.poll_message_id,
            chat_kind=change.chat_kind,
        )
        result.append(
            ClaimedChange(
                change.id,
                correction.id,
                correction.article_id,
                correction.action,
                correction.note,
                copy,
                change.attempts,
            )
        )
    await record(session, failed=gone)
    return result


async def record(
    session: AsyncSession,
    *,
    done: Sequence[ChangeDone] = (),
    failed: Sequence[ChangeFailed] = (),
    retries: Sequence[ChangeRetry] = (),
) -> None:
    """Write what became of claimed rows."""
    now = utcnow()
    table: sa.Table = CopyChange.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    if done:
        await connection.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                status=CopyChangeStatus.DONE.value,
                outcome=sa.bindparam("result"),
                failure=None,
                updated_at=now,
            ),
            [{"row_id": row.change_id, "result": row.outcome.value} for row in done],
        )
    if failed:
        await connection.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                status=CopyChangeStatus.FAILED.value,
                outcome=CopyOutcome.FAILED.value,
                failure=sa.bindparam("reason"),
                last_error=sa.bindparam("error"),
                updated_at=now,
            ),
            [
                {"row_id": row.change_id, "reason": row.failure, "error": _short(row.error)}
                for row in failed
            ],
        )
    if retries:
        await connection.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                status=CopyChangeStatus.PENDING.value,
                not_before=sa.bindparam("due"),
                failure=sa.bindparam("reason"),
                last_error=sa.bindparam("error"),
                updated_at=now,
            ),
            [
                {
                    "row_id": row.change_id,
                    "due": row.not_before,
                    "reason": row.failure,
                    "error": _short(row.error),
                }
                for row in retries
            ],
        )


def _short(error: str | None) -> str | None:
    # Telegram's texts are short; anything else is cut so one odd error cannot bloat the ledger.
    return error[:500] if error is not None else None


# --- progress -----------------------------------------------------------------------------------


async def running_corrections(session: AsyncSession) -> list[Correction]:
    rows = await session.exec(
        select(Correction)
        .where(col(Correction.status) == CorrectionStatus.RUNNING)
        .order_by(col(Correction.id))
    )
    return list(rows.all())


async def counts(session: AsyncSession, *, correction_id: int) -> Counts:
    """The correction's rows counted by what became of them."""
    rows = await session.exec(
        select(
            col(CopyChange.status),
            col(CopyChange.outcome),
            col(CopyChange.failure),
            sa.func.count(),
        )
        .where(col(CopyChange.correction_id) == correction_id)
        .group_by(col(CopyChange.status), col(CopyChange.outcome), col(CopyChange.failure))
    )
    by_outcome: dict[CopyOutcome, int] = {}
    failed: dict[str, int] = {}
    remaining = 0
    for status, outcome, failure, count in rows:
        if CopyChangeStatus(status) in {CopyChangeStatus.PENDING, CopyChangeStatus.SENDING}:
            remaining += count
        elif CopyChangeStatus(status) is CopyChangeStatus.FAILED:
            failed[failure or "other"] = failed.get(failure or "other", 0) + count
        elif outcome is not None:
            by_outcome[CopyOutcome(outcome)] = by_outcome.get(CopyOutcome(outcome), 0) + count
    return Counts(
        edited=by_outcome.get(CopyOutcome.EDITED, 0),
        deleted=by_outcome.get(CopyOutcome.DELETED, 0),
        notices=by_outcome.get(CopyOutcome.NOTICE, 0),
        superseded=by_outcome.get(CopyOutcome.SUPERSEDED, 0),
        remaining=remaining,
        failed=tuple(sorted(failed.items())),
    )


async def finish(session: AsyncSession, *, correction_id: int, final: Counts) -> Correction | None:
    """Mark the running correction done with its final counts; None if it was not running."""
    correction = await session.get(Correction, correction_id)
    if correction is None or correction.status is not CorrectionStatus.RUNNING:
        return None
    correction.status = CorrectionStatus.DONE
    correction.finished_at = utcnow()
    correction.edited = final.edited
    correction.deleted = final.deleted
    correction.notices = final.notices
    correction.failed = final.failed_total
    session.add(correction)
    await session.flush()
    return correction


async def set_progress_message(
    session: AsyncSession, *, correction_id: int, chat_id: int, message_id: int
) -> None:
    await session.exec(
        sa.update(Correction)
        .where(col(Correction.id) == correction_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id)
    )


async def show_poll_content(
    session: AsyncSession, *, poll_message_id: int, shown_hash: str
) -> None:
    """A poll message a correction edited now shows this content (what live totals compare)."""
    await session.exec(
        sa.update(PollMessage)
        .where(col(PollMessage.id) == poll_message_id)
        .values(shown_hash=shown_hash)
    )


async def retire_poll_message(
    session: AsyncSession, *, poll_message_id: int, reason: RetireReason
) -> None:
    await session.exec(
        sa.update(PollMessage)
        .where(col(PollMessage.id) == poll_message_id)
        .values(retired=True, retired_reason=reason, dirty=False)
    )


async def pending_deliveries(session: AsyncSession, *, article_id: int) -> int:
    """How many of the article's deliveries still wait to be sent."""
    result = await session.exec(
        select(sa.func.count()).where(
            col(Delivery.article_id) == article_id,
            col(Delivery.status) == DeliveryStatus.PENDING,
        )
    )
    return int(result.one())
