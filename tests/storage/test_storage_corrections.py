"""The corrections ledger: one row per copy, a Confirm that changes the article and queues its
copies in one go, a retraction that cancels what was not sent, copies sent from an older card
caught up, and rows a stopped runner left in flight claimed again."""

from sqlmodel import col, select

from storage import corrections
from storage.chats import mark_chat_stopped, subscribe_chat, upsert_chat
from storage.corrections import ChangeDone, Confirmed, Refusal
from storage.engine import Database
from storage.models import (
    Article,
    ArticleStatus,
    CardCopy,
    ChatKind,
    CopyChange,
    CopyChangeStatus,
    CopyOutcome,
    CorrectionAction,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Poll,
    PollMessage,
    RetireReason,
    StopReason,
)
from storage.polls import create_poll, register_poll_message
from storage.types import utcnow

READERS = (101, 102, 103)
CHANNEL_ID = -1_002_000_000_001


async def _delivered(db: Database, *, poll: bool = False) -> int:
    """An article sent to three readers and a channel (message 10 + n), one reader pending."""
    async with db.transaction() as session:
        for chat_id in (*READERS, 104):
            await upsert_chat(session, chat_id=chat_id, kind=ChatKind.PRIVATE, title="Reader")
            await subscribe_chat(session, chat_id=chat_id)
        await upsert_chat(session, chat_id=CHANNEL_ID, kind=ChatKind.CHANNEL, title="Brief")
        article = Article(
            canonical_url="https://news.example/a",
            title="A",
            status=ArticleStatus.PUBLISHED,
        )
        session.add(article)
        await session.flush()
        assert article.id is not None
        poll_id = None
        if poll:
            poll_id = (
                await create_poll(
                    session, article_id=article.id, question="Q?", options=["Y", "N"]
                )
            ).id
        for n, chat_id in enumerate((*READERS, CHANNEL_ID)):
            session.add(
                Delivery(
                    kind=DeliveryKind.ARTICLE,
                    article_id=article.id,
                    chat_id=chat_id,
                    status=DeliveryStatus.SENT,
                    message_id=10 + n,
                    sent_at=utcnow(),
                )
            )
            if poll_id is not None:
                await register_poll_message(
                    session, poll_id=poll_id, chat_id=chat_id, message_id=10 + n, shown_hash="x"
                )
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=104))
        return article.id


async def _draft(db: Database, article_id: int, action: CorrectionAction) -> int:
    async with db.transaction() as session:
        article = await session.get(Article, article_id)
        assert article is not None
        draft = await corrections.create_draft(
            session,
            article=article,
            action=action,
            author_id=1,
            note="Fixed",
            fields={"title": "A, corrected"} if action is CorrectionAction.UPDATE else None,
        )
        assert draft.id is not None
        return draft.id


async def _confirm(db: Database, correction_id: int) -> Confirmed | Refusal:
    async with db.transaction() as session:
        return await corrections.confirm(
            session,
            correction_id=correction_id,
            progress_chat_id=1,
            progress_message_id=5,
            line="Updated 10:00: Fixed",
        )


async def _changes(db: Database) -> list[CopyChange]:
    async with db.transaction() as session:
        rows = await session.exec(select(CopyChange).order_by(col(CopyChange.id)))
        return list(rows.all())


async def test_confirm_updates_the_article_and_queues_each_copy_once(db: Database) -> None:
    """Confirm stores the corrected fields and the line, bumps the revision and queues one row
    per sent copy (a card a reader asked for, and its photo, included); a second Confirm does
    nothing."""
    article_id = await _delivered(db)
    async with db.transaction() as session:
        session.add(
            CardCopy(article_id=article_id, chat_id=101, message_id=10, photo_message_id=9)
        )
        session.add(CardCopy(article_id=article_id, inline_message_id="AgAAA1"))
    correction_id = await _draft(db, article_id, CorrectionAction.UPDATE)

    confirmed = await _confirm(db, correction_id)
    again = await _confirm(db, correction_id)

    assert isinstance(confirmed, Confirmed)
    assert (confirmed.copies, again) == (5, Refusal.DECIDED)
    async with db.transaction() as session:
        article = await session.get(Article, article_id)
    assert article is not None
    assert (article.title, article.revision, article.correction) == (
        "A, corrected",
        1,
        "Updated 10:00: Fixed",
    )
    rows = await _changes(db)
    assert [(r.chat_id, r.message_id, r.photo_message_id, r.inline_message_id) for r in rows] == [
        (101, 10, 9, None),
        (102, 11, None, None),
        (103, 12, None, None),
        (CHANNEL_ID, 13, None, None),
        (None, None, None, "AgAAA1"),
    ]
    assert [r.chat_kind for r in rows] == [ChatKind.PRIVATE] * 3 + [ChatKind.CHANNEL, None]
    assert {r.status for r in rows} == {CopyChangeStatus.PENDING}


async def test_retraction_cancels_pending_deliveries_closes_the_poll_and_retires_copies(
    db: Database,
) -> None:
    """Confirming a retraction withdraws the article, cancels the delivery not sent yet, closes
    its poll and stops live totals on its messages; copies in a chat that blocked the bot are
    not tried."""
    article_id = await _delivered(db, poll=True)
    async with db.transaction() as session:
        await mark_chat_stopped(session, chat_id=103, reason=StopReason.BLOCKED)
    correction_id = await _draft(db, article_id, CorrectionAction.RETRACT)

    confirmed = await _confirm(db, correction_id)

    assert isinstance(confirmed, Confirmed)
    async with db.transaction() as session:
        article = await session.get(Article, article_id)
        pending = (await session.exec(select(Delivery).where(col(Delivery.chat_id) == 104))).one()
        poll = (await session.exec(select(Poll))).one()
        messages = (await session.exec(select(PollMessage))).all()
    assert article is not None
    assert article.status is ArticleStatus.WITHDRAWN
    assert (pending.status, pending.failure) == (DeliveryStatus.CANCELLED, corrections.WITHDRAWN)
    assert poll.is_closed
    assert {(m.retired, m.retired_reason) for m in messages} == {(True, RetireReason.WITHDRAWN)}
    rows = await _changes(db)
    assert [(r.chat_id, r.status, r.failure) for r in rows if r.chat_id == 103] == [
        (103, CopyChangeStatus.FAILED, corrections.CHAT_INACTIVE)
    ]
    assert all(r.poll_message_id is not None for r in rows)


async def test_a_copy_sent_from_an_older_card_is_queued_for_the_latest_correction(
    db: Database,
) -> None:
    """A send recorded after a Confirm, from a card rendered before it, gets its row; a copy
    rendered from the corrected article gets none."""
    article_id = await _delivered(db)
    correction_id = await _draft(db, article_id, CorrectionAction.UPDATE)
    await _confirm(db, correction_id)

    async with db.transaction() as session:
        stale = await corrections.note_copy(
            session, article_id=article_id, revision=0, chat_id=104, message_id=20
        )
        fresh = await corrections.note_copy(
            session, article_id=article_id, revision=1, chat_id=105, message_id=21
        )

    assert (stale, fresh) == (True, False)
    queued = [r for r in await _changes(db) if r.chat_id in (104, 105)]
    assert [(r.chat_id, r.correction_id) for r in queued] == [(104, correction_id)]


async def test_a_later_correction_takes_over_waiting_rows_and_in_flight_rows_are_released(
    db: Database,
) -> None:
    """Rows a stopped runner left in flight go back to pending; a second correction confirmed
    meanwhile takes over the first one's waiting rows."""
    article_id = await _delivered(db)
    first = await _draft(db, article_id, CorrectionAction.UPDATE)
    await _confirm(db, first)
    async with db.transaction() as session:
        claimed = await corrections.claim_due(session, limit=2, claimer="worker-a")
        await corrections.record(session, done=[ChangeDone(claimed[0].id, CopyOutcome.EDITED)])
    async with db.transaction() as session:
        released = await corrections.release_in_flight(session)
    second = await _draft(db, article_id, CorrectionAction.UPDATE)
    await _confirm(db, second)

    assert released == 1
    async with db.transaction() as session:
        counts = await corrections.counts(session, correction_id=first)
    assert (counts.edited, counts.superseded, counts.remaining) == (1, 3, 0)
