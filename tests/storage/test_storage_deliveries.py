"""The delivery ledger: queuing an audience, claiming due rows, recording outcomes."""

from datetime import timedelta

from sqlmodel import col, select

from storage import deliveries
from storage.chats import mark_chat_stopped, subscribe_chat, upsert_chat
from storage.engine import Database
from storage.models import (
    Article,
    Broadcast,
    Chat,
    ChatKind,
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    ForumTopic,
    StopReason,
)
from storage.types import utcnow

PRIVATE_IDS = (101, 102, 103)
GROUP_ID = -4_000_001
CHANNEL_ID = -1_002_000_000_001


async def _subscribers(db: Database) -> None:
    async with db.transaction() as session:
        for chat_id in PRIVATE_IDS:
            await upsert_chat(session, chat_id=chat_id, kind=ChatKind.PRIVATE, title="Reader")
            await subscribe_chat(session, chat_id=chat_id)
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Club")
        await subscribe_chat(session, chat_id=GROUP_ID)
        await upsert_chat(session, chat_id=CHANNEL_ID, kind=ChatKind.CHANNEL, title="Brief")
        await subscribe_chat(session, chat_id=CHANNEL_ID)
        # Known but never subscribed: never in an audience.
        await upsert_chat(session, chat_id=999, kind=ChatKind.PRIVATE, title="Lurker")


async def _article(db: Database) -> int:
    async with db.transaction() as session:
        article = Article(canonical_url="https://news.example/a", title="A")
        session.add(article)
        await session.flush()
        assert article.id is not None
        return article.id


async def _rows(db: Database) -> list[Delivery]:
    async with db.transaction() as session:
        return list((await session.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def test_queue_article_once_per_active_subscriber(db: Database) -> None:
    """Queuing an article makes one pending row per active subscriber, and never a second."""
    await _subscribers(db)
    article_id = await _article(db)
    async with db.transaction() as session:
        first = await deliveries.queue_article(session, article_id=article_id)
        again = await deliveries.queue_article(session, article_id=article_id)
    rows = await _rows(db)
    assert (first, again) == (5, 0)
    assert sorted(row.chat_id for row in rows) == sorted([*PRIVATE_IDS, GROUP_ID, CHANNEL_ID])
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}


async def test_queue_broadcast_targets_kinds_and_topics(db: Database) -> None:
    """A broadcast to groups reaches only groups; a section reaches the chats that follow it,
    and those that follow every section, never those that chose others."""
    await _subscribers(db)
    async with db.transaction() as session:
        for chat_id, sections in ((101, ["sport"]), (102, ["climate", "science"])):
            chat = await upsert_chat(session, chat_id=chat_id, kind=ChatKind.PRIVATE, title="R")
            chat.topics = sections
            session.add(chat)
        to_groups = Broadcast(author_id=1, html="hi")
        by_topic = Broadcast(author_id=1, html="hi")
        session.add_all([to_groups, by_topic])
        await session.flush()
        assert to_groups.id is not None
        assert by_topic.id is not None
        audience = await deliveries.count_audience(session, kinds=[ChatKind.GROUP])
        groups = await deliveries.queue_broadcast(
            session, broadcast_id=to_groups.id, kinds=[ChatKind.GROUP]
        )
        topical = await deliveries.queue_broadcast(
            session, broadcast_id=by_topic.id, topics=["climate"]
        )
    rows = await _rows(db)
    assert (audience, groups, topical) == (1, 1, 4)
    assert {(row.broadcast_id, row.chat_id) for row in rows} == {
        (to_groups.id, GROUP_ID),
        *((by_topic.id, chat_id) for chat_id in (102, 103, GROUP_ID, CHANNEL_ID)),
    }


async def _follow(db: Database, chat_id: int, **choices: object) -> None:
    async with db.transaction() as session:
        chat = await session.get(Chat, chat_id)
        assert chat is not None
        for name, value in choices.items():
            setattr(chat, name, value)
        session.add(chat)


async def test_an_article_goes_to_followers_of_its_sections_and_to_instant_readers_only(
    db: Database,
) -> None:
    """A reader of other sections and a digest reader get no instant card of it; a reader of
    its section, one of every section, and every chat for an article without sections do."""
    await _subscribers(db)
    await _follow(db, 101, topics=["sport"])
    await _follow(db, 102, topics=["climate"])
    await _follow(db, 103, delivery_mode=DeliveryMode.DAILY, digest_hour=8)
    async with db.transaction() as session:
        climate = Article(canonical_url="https://news.example/c", title="C", topics=["climate"])
        general = Article(canonical_url="https://news.example/g", title="G")
        session.add_all([climate, general])
        await session.flush()
        assert climate.id is not None
        assert general.id is not None
        await deliveries.queue_article(session, article_id=climate.id)
        await deliveries.queue_article(session, article_id=general.id)
    rows = await _rows(db)
    assert sorted(row.chat_id for row in rows if row.article_id == climate.id) == sorted(
        [102, GROUP_ID, CHANNEL_ID]
    )
    assert sorted(row.chat_id for row in rows if row.article_id == general.id) == sorted(
        [101, 102, GROUP_ID, CHANNEL_ID]
    )


async def test_each_subscribed_topic_of_a_forum_gets_its_own_row(db: Database) -> None:
    """A forum's subscribed topics each get a row with their thread id (the group itself too
    when it subscribed); an ended topic, and the topics of a group the bot left, get none."""
    forum, quiet_forum = -1_003_000_000_001, -1_003_000_000_002
    async with db.transaction() as session:
        for chat_id in (forum, quiet_forum):
            await upsert_chat(session, chat_id=chat_id, kind=ChatKind.SUPERGROUP, title="F")
        await subscribe_chat(session, chat_id=forum)
        session.add_all(
            [
                ForumTopic(chat_id=forum, thread_id=5, subscribed=True, active=True),
                ForumTopic(chat_id=forum, thread_id=9, subscribed=True, active=True),
                ForumTopic(
                    chat_id=forum,
                    thread_id=12,
                    subscribed=True,
                    active=False,
                    stop_reason=StopReason.TOPIC_CLOSED,
                ),
                ForumTopic(chat_id=quiet_forum, thread_id=3, subscribed=True, active=True),
            ]
        )
        await mark_chat_stopped(session, chat_id=quiet_forum, reason=StopReason.KICKED)
        article = Article(canonical_url="https://news.example/f", title="F")
        session.add(article)
        await session.flush()
        assert article.id is not None
        queued = await deliveries.queue_article(session, article_id=article.id)
        again = await deliveries.queue_article(session, article_id=article.id)
        audience = await deliveries.count_audience(session)
    rows = await _rows(db)
    assert (queued, again, audience) == (3, 0, 3)
    assert sorted((row.chat_id, row.thread_id) for row in rows) == [
        (forum, 0),
        (forum, 5),
        (forum, 9),
    ]


async def test_claim_skips_stopped_chats_and_future_rows(db: Database) -> None:
    """A claim takes due rows oldest first, cancels rows of stopped chats, leaves later ones."""
    await _subscribers(db)
    article_id = await _article(db)
    async with db.transaction() as session:
        await deliveries.queue_article(session, article_id=article_id)
        await mark_chat_stopped(session, chat_id=101, reason=StopReason.BLOCKED)
    later = (await _rows(db))[-1]
    assert later.id is not None
    async with db.transaction() as session:
        first = await deliveries.claim_due(session, limit=1)
        await deliveries.retry_rows(
            session,
            rows=[
                deliveries.RetryRow(first[0].id, utcnow() + timedelta(hours=1), "flood"),
            ],
        )
        rest = await deliveries.claim_due(session, limit=10)
    rows = {row.chat_id: row for row in await _rows(db)}
    assert rows[101].status is DeliveryStatus.CANCELLED
    assert rows[101].failure == deliveries.CHAT_INACTIVE
    assert first[0].chat_id not in {row.chat_id for row in rest}
    assert rows[first[0].chat_id].status is DeliveryStatus.PENDING
    assert {row.chat_id for row in rest} == {102, 103, GROUP_ID, CHANNEL_ID} - {first[0].chat_id}
    assert all(
        row.status is DeliveryStatus.SENDING
        for row in rows.values()
        if row.chat_id != 101 and row.chat_id != first[0].chat_id
    )


async def test_outcomes_and_restart_release(db: Database) -> None:
    """Sent rows keep their message id; rows left 'sending' go back to pending on release."""
    await _subscribers(db)
    article_id = await _article(db)
    async with db.transaction() as session:
        await deliveries.queue_article(session, article_id=article_id)
        claimed = await deliveries.claim_due(session, limit=3)
        await deliveries.mark_sent(
            session, rows=[deliveries.SentRow(claimed[0].id, message_id=42)]
        )
        await deliveries.end_rows(
            session,
            rows=[
                deliveries.EndedRow(
                    claimed[1].id, DeliveryStatus.FAILED, "blocked", "Forbidden: bot was blocked"
                )
            ],
        )
    async with db.transaction() as session:
        released = await deliveries.release_in_flight(session)
        counts = await deliveries.delivery_counts(session)
    rows = {row.id: row for row in await _rows(db)}
    assert released == 1
    assert rows[claimed[0].id].message_id == 42
    assert rows[claimed[0].id].status is DeliveryStatus.SENT
    assert rows[claimed[1].id].failure == "blocked"
    assert rows[claimed[2].id].status is DeliveryStatus.PENDING
    assert sum(counts.values()) == 5


async def test_a_batch_of_sends_keeps_each_message_id(db: Database) -> None:
    """Recording many sends at once gives each row its own message id, and leaves alone a row
    that is not in flight (a pending one is never marked sent)."""
    await _subscribers(db)
    article_id = await _article(db)
    async with db.transaction() as session:
        await deliveries.queue_article(session, article_id=article_id)
        claimed = await deliveries.claim_due(session, limit=4)
    pending = next(row for row in await _rows(db) if row.status is DeliveryStatus.PENDING)
    assert pending.id is not None
    sent = {row.id: 7000 + n for n, row in enumerate(claimed)}
    async with db.transaction() as session:
        await deliveries.mark_sent(
            session,
            rows=[
                *(deliveries.SentRow(row_id, message_id) for row_id, message_id in sent.items()),
                deliveries.SentRow(pending.id, 9999),
            ],
        )
    rows = {row.id: row for row in await _rows(db)}
    assert {row_id: rows[row_id].message_id for row_id in sent} == sent
    assert {rows[row_id].status for row_id in sent} == {DeliveryStatus.SENT}
    assert all(rows[row_id].sent_at is not None for row_id in sent)
    assert (rows[pending.id].status, rows[pending.id].message_id) == (DeliveryStatus.PENDING, None)


async def test_cancel_broadcast_keeps_sent_rows(db: Database) -> None:
    """Cancelling a broadcast cancels its pending rows and leaves sent ones as they were."""
    await _subscribers(db)
    async with db.transaction() as session:
        broadcast = Broadcast(author_id=1, html="hi")
        session.add(broadcast)
        await session.flush()
        assert broadcast.id is not None
        await deliveries.queue_broadcast(session, broadcast_id=broadcast.id)
        claimed = await deliveries.claim_due(session, limit=2)
        await deliveries.mark_sent(
            session, rows=[deliveries.SentRow(row.id, message_id=7) for row in claimed]
        )
        cancelled = await deliveries.cancel_broadcast_rows(session, broadcast_id=broadcast.id)
        counts = await deliveries.broadcast_row_counts(session, broadcast_id=broadcast.id)
    assert cancelled == 3
    assert counts == {
        (DeliveryStatus.SENT, None): 2,
        (DeliveryStatus.CANCELLED, deliveries.CANCELLED_BY_ADMIN): 3,
    }
