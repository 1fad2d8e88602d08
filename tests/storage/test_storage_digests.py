"""Digests in storage: who takes them, what one lists, and each period's digest made once with
its ledger row; on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from storage import deliveries, digests, forum_topics, preferences
from storage.articles import mark_published
from storage.chats import subscribe_chat, unsubscribe_chat, upsert_chat
from storage.digests import DigestTarget
from storage.engine import Database
from storage.models import (
    Article,
    ArticleStatus,
    ChatKind,
    Delivery,
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    Digest,
)

READER = 101
FORUM = -1_003_000_000_001
INSTANT_READER = 102
GONE_READER = 103
TOPIC = 77
DUE = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
WINDOW_START = DUE - timedelta(days=1)


async def _readers(db: Database) -> None:
    """A daily reader, a weekly forum with a subscribed topic, an instant reader, and a daily
    reader who unsubscribed."""
    async with db.transaction() as session:
        for chat_id in (READER, INSTANT_READER, GONE_READER):
            await upsert_chat(session, chat_id=chat_id, kind=ChatKind.PRIVATE, title="Reader")
            await subscribe_chat(session, chat_id=chat_id)
        await upsert_chat(session, chat_id=FORUM, kind=ChatKind.SUPERGROUP, title="Forum")
        await subscribe_chat(session, chat_id=FORUM)
        await forum_topics.subscribe_topic(session, chat_id=FORUM, thread_id=TOPIC, title="News")
        for chat_id in (READER, GONE_READER):
            await preferences.set_delivery_mode(
                session, chat_id=chat_id, mode=DeliveryMode.DAILY, hour=8
            )
        await preferences.set_delivery_mode(
            session, chat_id=FORUM, mode=DeliveryMode.WEEKLY, hour=9, weekday=4
        )
        await preferences.set_timezone(session, chat_id=READER, timezone="Europe/Berlin")
        await unsubscribe_chat(session, chat_id=GONE_READER)


async def _published(db: Database, title: str, at: datetime, sections: list[str]) -> int:
    async with db.transaction() as session:
        article = Article(
            canonical_url=f"https://news.example/{title.replace(' ', '-')}",
            title=title,
            standfirst=f"About {title}.",
            topics=sections,
        )
        session.add(article)
        await session.flush()
        assert article.id is not None
        await mark_published(session, article_id=article.id, at=at)
        return article.id


def _reader_target(targets: list[DigestTarget]) -> DigestTarget:
    return next(t for t in targets if (t.chat_id, t.thread_id) == (READER, 0))


async def _create(db: Database, target: DigestTarget, period: str = "2026-12-03") -> Digest | None:
    async with db.transaction() as session:
        return await digests.create_digest(
            session, target=target, period=period, window_start=WINDOW_START, window_end=DUE
        )


async def test_digest_targets_are_the_subscribed_digest_chats_and_topics(db: Database) -> None:
    """Digest chats subscribed themselves and their subscribed topics are listed with their
    choices; instant and unsubscribed chats are not; none has had a digest yet."""
    await _readers(db)
    async with db.transaction() as session:
        targets = await digests.digest_targets(session)

    listed = {(t.chat_id, t.thread_id): t for t in targets}
    assert set(listed) == {(READER, 0), (FORUM, 0), (FORUM, TOPIC)}
    reader = listed[READER, 0]
    assert (reader.mode, reader.hour, reader.weekday, reader.timezone) == (
        DeliveryMode.DAILY,
        8,
        None,
        "Europe/Berlin",
    )
    topic = listed[FORUM, TOPIC]
    assert (topic.mode, topic.hour, topic.weekday, topic.timezone) == (
        DeliveryMode.WEEKLY,
        9,
        4,
        None,
    )
    assert all(t.last_window_end is None for t in targets)
    assert all(t.subscribed_at is not None and t.subscribed_at.tzinfo for t in targets)


async def test_a_digest_and_its_ledger_row_are_made_once_per_period(db: Database) -> None:
    """The period's digest is stored with one pending digest delivery; making it again (another
    round, another worker) stores nothing more; the target then reports the window's end."""
    await _readers(db)
    await _published(db, "Harbour reopens", DUE - timedelta(hours=3), [])
    async with db.transaction() as session:
        target = _reader_target(await digests.digest_targets(session))

    first = await _create(db, target)
    again = await _create(db, target)

    assert first is not None
    assert again is None
    async with db.transaction() as session:
        stored = (await session.exec(select(Digest))).all()
        rows = (await session.exec(select(Delivery))).all()
        after = _reader_target(await digests.digest_targets(session))
    assert [(d.chat_id, d.thread_id, d.period) for d in stored] == [(READER, 0, "2026-12-03")]
    assert [(r.kind, r.digest_id, r.chat_id, r.thread_id, r.status) for r in rows] == [
        (DeliveryKind.DIGEST, first.id, READER, 0, DeliveryStatus.PENDING)
    ]
    assert after.last_window_end == DUE


async def test_nothing_is_made_when_the_window_has_nothing_for_the_chat(db: Database) -> None:
    """An article outside the window, in a section the chat does not follow, withdrawn, or
    already sent to the chat as a card makes no digest."""
    await _readers(db)
    async with db.transaction() as session:
        await preferences.set_sections(session, chat_id=READER, sections=["Sport"])
    await _published(db, "Too early", WINDOW_START - timedelta(minutes=1), [])
    await _published(db, "At the due time", DUE, [])
    await _published(db, "Climate talks", DUE - timedelta(hours=2), ["climate"])
    withdrawn = await _published(db, "Withdrawn", DUE - timedelta(hours=2), ["sport"])
    carded = await _published(db, "Already a card", DUE - timedelta(hours=1), ["sport"])
    async with db.transaction() as session:
        article = await session.get(Article, withdrawn)
        assert article is not None
        article.status = ArticleStatus.WITHDRAWN
        session.add(article)
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=carded, chat_id=READER))
        target = _reader_target(await digests.digest_targets(session))

    assert await _create(db, target) is None
    async with db.transaction() as session:
        assert (await session.exec(select(Digest))).all() == []


async def test_a_digest_lists_its_window_for_the_chat_oldest_first(db: Database) -> None:
    """The listed articles are the window's, in the chat's sections (and those without any),
    oldest first, without the ones the chat already got as cards."""
    await _readers(db)
    async with db.transaction() as session:
        await preferences.set_sections(session, chat_id=READER, sections=["Sport", "Science"])
    second = await _published(db, "Derby tonight", DUE - timedelta(hours=2), ["sport"])
    first = await _published(db, "Comet seen", DUE - timedelta(hours=20), ["science", "space"])
    await _published(db, "Budget vote", DUE - timedelta(hours=3), ["politics"])
    everyone = await _published(db, "Storm warning", DUE - timedelta(minutes=5), [])
    carded = await _published(db, "Cup draw", DUE - timedelta(hours=1), ["sport"])
    async with db.transaction() as session:
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=carded, chat_id=READER))
        target = _reader_target(await digests.digest_targets(session))
    digest = await _create(db, target)
    assert digest is not None

    async with db.transaction() as session:
        listed = await digests.digest_articles(session, digest=digest)

    assert [article.id for article in listed] == [first, second, everyone]
    assert listed[0].title == "Comet seen"
    assert listed[0].standfirst == "About Comet seen."


async def test_a_topic_digest_is_its_own_and_goes_to_the_topic(db: Database) -> None:
    """A forum's topic gets its own digest for the same period as the group's, with a ledger
    row that names the topic."""
    await _readers(db)
    await _published(db, "Harbour reopens", DUE - timedelta(hours=3), [])
    async with db.transaction() as session:
        targets = await digests.digest_targets(session)
    forum = [t for t in targets if t.chat_id == FORUM]

    made = [await _create(db, target, period="2026-W49") for target in forum]

    assert all(digest is not None for digest in made)
    async with db.transaction() as session:
        rows = (
            await session.exec(
                select(Delivery).where(col(Delivery.chat_id) == FORUM).order_by(col(Delivery.id))
            )
        ).all()
        claimed = await deliveries.claim_due(session, limit=10, now=DUE)
    assert sorted(row.thread_id for row in rows) == [0, TOPIC]
    assert sorted((row.kind, row.item_id) for row in claimed) == sorted(
        (DeliveryKind.DIGEST, digest.id) for digest in made if digest is not None
    )
