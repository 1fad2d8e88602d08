"""What the database itself guarantees about the tables: uniqueness, foreign keys, checks,
and values that come back as they went in."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.chats import upsert_chat
from storage.engine import Database
from storage.models import (
    Article,
    ChatKind,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Poll,
    PollMessage,
    PollOption,
    Vote,
)
from storage.users import upsert_user

READER_ID = 1001
GROUP_ID = -100_200_300


async def _poll_with_two_options(session: AsyncSession) -> tuple[Poll, PollOption, PollOption]:
    article = Article(canonical_url="https://news.example/a", title="A headline")
    session.add(article)
    await session.flush()
    poll = Poll(article_id=article.id, question="Did you know?")
    session.add(poll)
    await session.flush()
    assert poll.id is not None
    yes = PollOption(poll_id=poll.id, position=0, text="Yes")
    no = PollOption(poll_id=poll.id, position=1, text="No")
    session.add_all([yes, no])
    await session.flush()
    return poll, yes, no


async def test_a_user_has_one_vote_per_poll(db: Database) -> None:
    """A second vote row for the same poll and user is refused by the database."""
    async with db.transaction() as session:
        await upsert_user(session, user_id=READER_ID, first_name="Ada")
        poll, yes, no = await _poll_with_two_options(session)
        assert poll.id is not None
        assert yes.id is not None
        assert no.id is not None
        session.add(Vote(poll_id=poll.id, user_id=READER_ID, option_id=yes.id))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(Vote(poll_id=poll.id, user_id=READER_ID, option_id=no.id))
    async with db.transaction() as session:
        votes = (await session.exec(select(Vote))).all()
    assert [(vote.user_id, vote.option_id) for vote in votes] == [(READER_ID, yes.id)]


async def test_foreign_keys_are_enforced(db: Database) -> None:
    """A delivery to a chat the database does not know is refused."""
    async with db.transaction() as session:
        article = Article(canonical_url="https://news.example/a", title="A headline")
        session.add(article)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=404))


async def test_an_article_goes_to_a_chat_once(db: Database) -> None:
    """A second delivery of the same article to the same chat is refused."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.SUPERGROUP, title="Readers")
        article = Article(canonical_url="https://news.example/a", title="A headline")
        session.add(article)
        await session.flush()
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=GROUP_ID))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(
                Delivery(kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=GROUP_ID)
            )


async def test_a_delivery_names_exactly_one_item(db: Database) -> None:
    """A broadcast delivery without a broadcast is refused by the check constraint."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.SUPERGROUP, title="Readers")
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(Delivery(kind=DeliveryKind.BROADCAST, chat_id=GROUP_ID))


async def test_a_poll_message_needs_an_address(db: Database) -> None:
    """A poll message with neither chat and message id nor inline message id is refused."""
    async with db.transaction() as session:
        poll, _, _ = await _poll_with_two_options(session)
    assert poll.id is not None
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(PollMessage(poll_id=poll.id, chat_id=GROUP_ID))
    async with db.transaction() as session:
        session.add(PollMessage(poll_id=poll.id, inline_message_id="AAQ-inline"))
        session.add(PollMessage(poll_id=poll.id, chat_id=GROUP_ID, message_id=7))
    async with db.transaction() as session:
        count = (await session.exec(select(sa.func.count()).select_from(PollMessage))).one()
    assert count == 2


async def test_datetimes_come_back_aware_in_utc(db: Database) -> None:
    """A datetime stored with any offset is read back as the same instant in UTC."""
    berlin_noon = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction() as session:
        article = Article(
            canonical_url="https://news.example/a", title="A headline", published_at=berlin_noon
        )
        session.add(article)
    async with db.transaction() as session:
        stored = (await session.exec(select(Article))).one()
    assert stored.published_at == berlin_noon
    assert stored.published_at is not None
    assert stored.published_at.tzinfo is UTC
    assert stored.published_at.hour == 10
    assert stored.created_at.tzinfo is UTC


async def test_comparisons_with_aware_datetimes_work(db: Database) -> None:
    """Rows are found by comparing a stored datetime with an aware one in another offset."""
    due = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.SUPERGROUP, title="Readers")
        article = Article(canonical_url="https://news.example/a", title="A headline")
        session.add(article)
        await session.flush()
        session.add(
            Delivery(
                kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=GROUP_ID, not_before=due
            )
        )
    tokyo_later = datetime(2024, 6, 1, 19, 30, tzinfo=timezone(timedelta(hours=9)))
    tokyo_earlier = datetime(2024, 6, 1, 18, 30, tzinfo=timezone(timedelta(hours=9)))
    async with db.transaction() as session:
        due_later = (
            await session.exec(select(Delivery).where(col(Delivery.not_before) <= tokyo_later))
        ).all()
        due_earlier = (
            await session.exec(select(Delivery).where(col(Delivery.not_before) <= tokyo_earlier))
        ).all()
    assert len(due_later) == 1
    assert due_earlier == []


async def test_naive_datetimes_are_refused(db: Database) -> None:
    """Writing a datetime without an offset fails instead of guessing its zone."""
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as session:
            session.add(
                Article(
                    canonical_url="https://news.example/a",
                    title="A headline",
                    published_at=datetime(2024, 6, 1, 12, 0),  # noqa: DTZ001
                )
            )


async def test_enums_are_stored_as_their_values(db: Database) -> None:
    """Enum columns hold the readable value, so other tools and migrations see plain strings."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.SUPERGROUP, title="Readers")
        article = Article(canonical_url="https://news.example/a", title="A headline")
        session.add(article)
        await session.flush()
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=GROUP_ID))
    async with db.engine.connect() as connection:
        kind = (await connection.execute(sa.text("SELECT kind FROM chats"))).scalar_one()
        status = (await connection.execute(sa.text("SELECT status FROM deliveries"))).scalar_one()
    assert (kind, status) == ("supergroup", DeliveryStatus.PENDING.value)


async def test_json_columns_round_trip(db: Database) -> None:
    """Lists and related links come back as the same Python values."""
    related = [{"title": "Background", "url": "https://news.example/b"}]
    async with db.transaction() as session:
        session.add(
            Article(
                canonical_url="https://news.example/a",
                title="A headline",
                key_points=["One", "Two"],
                topics=["science"],
                related=related,
            )
        )
    async with db.transaction() as session:
        stored = (await session.exec(select(Article))).one()
    assert (stored.key_points, stored.topics, stored.related) == (
        ["One", "Two"],
        ["science"],
        related,
    )
