"""Readers' preferences as stored: sections normalised, delivery modes, quiet hours, time zones,
and the sections of recently published articles."""

from datetime import timedelta

import pytest

from newsroom.article import ArticleDraft
from storage.articles import mark_published, store_article
from storage.chats import (
    UnknownChatError,
    mark_chat_stopped,
    migrate_chat,
    subscribe_chat,
    upsert_chat,
)
from storage.engine import Database
from storage.models import ChatKind, DeliveryMode, StopReason
from storage.preferences import (
    ChatPreferences,
    ReaderChoices,
    chat_preferences,
    known_sections,
    reader_choices,
    set_delivery_mode,
    set_quiet_hours,
    set_sections,
    set_timezone,
)
from storage.types import utcnow

READER_ID = 2001


@pytest.fixture(name="reader_db")
async def fixture_reader_db(db: Database) -> Database:
    """A migrated database that knows one private chat."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=READER_ID, kind=ChatKind.PRIVATE, title=None)
    return db


async def _stored(db: Database) -> ChatPreferences:
    async with db.transaction() as session:
        preferences = await chat_preferences(session, chat_id=READER_ID)
    assert preferences is not None
    return preferences


async def test_a_new_chat_gets_every_section_instantly_without_quiet_hours(
    reader_db: Database,
) -> None:
    """The defaults: all sections, instant delivery, no quiet hours, the bot's time zone."""
    assert await _stored(reader_db) == ChatPreferences(
        chat_id=READER_ID,
        sections=(),
        delivery_mode=DeliveryMode.INSTANT,
        digest_hour=None,
        digest_weekday=None,
        quiet_from=None,
        quiet_until=None,
        timezone=None,
    )


async def test_sections_are_stored_normalised_and_sorted(reader_db: Database) -> None:
    """Case and whitespace never make two sections of one; blanks and repeats are dropped."""
    async with reader_db.transaction() as session:
        await set_sections(
            session, chat_id=READER_ID, sections=["  World\tNews ", "Sport", "world news", " "]
        )
    assert (await _stored(reader_db)).sections == ("sport", "world news")
    async with reader_db.transaction() as session:
        await set_sections(session, chat_id=READER_ID, sections=[])
    assert (await _stored(reader_db)).follows_all_sections


async def test_delivery_modes_keep_only_the_hour_and_day_they_need(reader_db: Database) -> None:
    """Weekly keeps a day and hour, daily only the hour, instant neither."""
    async with reader_db.transaction() as session:
        await set_delivery_mode(
            session, chat_id=READER_ID, mode=DeliveryMode.WEEKLY, hour=8, weekday=6
        )
    stored = await _stored(reader_db)
    assert (stored.delivery_mode, stored.digest_hour, stored.digest_weekday) == (
        DeliveryMode.WEEKLY,
        8,
        6,
    )
    async with reader_db.transaction() as session:
        await set_delivery_mode(
            session, chat_id=READER_ID, mode=DeliveryMode.DAILY, hour=19, weekday=3
        )
    stored = await _stored(reader_db)
    assert (stored.delivery_mode, stored.digest_hour, stored.digest_weekday) == (
        DeliveryMode.DAILY,
        19,
        None,
    )
    async with reader_db.transaction() as session:
        await set_delivery_mode(session, chat_id=READER_ID, mode=DeliveryMode.INSTANT, hour=19)
    stored = await _stored(reader_db)
    assert (stored.delivery_mode, stored.digest_hour, stored.digest_weekday) == (
        DeliveryMode.INSTANT,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("mode", "hour", "weekday", "reason"),
    [
        (DeliveryMode.DAILY, None, None, "a digest needs an hour from 0 to 23 (got None)"),
        (DeliveryMode.DAILY, 24, None, "a digest needs an hour from 0 to 23 (got 24)"),
        (DeliveryMode.WEEKLY, 9, 7, "a weekly digest needs a day from 0 (Monday) to 6 (got 7)"),
        (
            DeliveryMode.WEEKLY,
            9,
            None,
            "a weekly digest needs a day from 0 (Monday) to 6 (got None)",
        ),
    ],
)
async def test_an_impossible_digest_time_is_refused_and_nothing_changes(
    reader_db: Database, mode: DeliveryMode, hour: int | None, weekday: int | None, reason: str
) -> None:
    """A digest hour or day out of range is refused with its reason; the chat stays instant."""
    async with reader_db.transaction() as session:
        with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            await set_delivery_mode(
                session, chat_id=READER_ID, mode=mode, hour=hour, weekday=weekday
            )
    assert (await _stored(reader_db)).delivery_mode is DeliveryMode.INSTANT


async def test_quiet_hours_span_midnight_and_turn_off(reader_db: Database) -> None:
    """22:30-07:00 is stored as minutes; both None turns quiet hours off again."""
    async with reader_db.transaction() as session:
        await set_quiet_hours(session, chat_id=READER_ID, start=22 * 60 + 30, end=7 * 60)
    stored = await _stored(reader_db)
    assert (stored.quiet_from, stored.quiet_until, stored.has_quiet_hours) == (1350, 420, True)
    async with reader_db.transaction() as session:
        await set_quiet_hours(session, chat_id=READER_ID, start=None, end=None)
    assert not (await _stored(reader_db)).has_quiet_hours


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (600, 600, "quiet hours must start and end at different times"),
        (1440, 60, "1440 is not a time of day"),
        (60, None, "quiet hours need both a start and an end"),
    ],
)
async def test_impossible_quiet_hours_are_refused(
    reader_db: Database, start: int | None, end: int | None, reason: str
) -> None:
    """An empty, out-of-day or half range is refused; quiet hours stay off."""
    async with reader_db.transaction() as session:
        with pytest.raises(ValueError, match=reason):
            await set_quiet_hours(session, chat_id=READER_ID, start=start, end=end)
    assert not (await _stored(reader_db)).has_quiet_hours


async def test_time_zones_are_iana_names(reader_db: Database) -> None:
    """A known zone is stored, an unknown one refused, None goes back to the bot's own."""
    async with reader_db.transaction() as session:
        await set_timezone(session, chat_id=READER_ID, timezone="Asia/Tokyo")
    assert (await _stored(reader_db)).timezone == "Asia/Tokyo"
    async with reader_db.transaction() as session:
        with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
            await set_timezone(session, chat_id=READER_ID, timezone="Mars/Olympus")
    assert (await _stored(reader_db)).timezone == "Asia/Tokyo"
    async with reader_db.transaction() as session:
        await set_timezone(session, chat_id=READER_ID, timezone=None)
    assert (await _stored(reader_db)).timezone is None


async def test_setting_a_preference_of_an_unknown_chat_is_refused(db: Database) -> None:
    """A chat without a row has no preferences to change."""
    async with db.transaction() as session:
        assert await chat_preferences(session, chat_id=READER_ID) is None
        with pytest.raises(UnknownChatError):
            await set_sections(session, chat_id=READER_ID, sections=["sport"])


async def test_known_sections_are_those_of_recently_published_articles(db: Database) -> None:
    """Published articles of the window give their sections once each; drafts and old ones not."""
    now = utcnow()
    articles = [
        ("https://news.example/a", ("Politics", "World  News"), now - timedelta(days=2)),
        ("https://news.example/b", ("politics", "Science"), now - timedelta(days=10)),
        ("https://news.example/c", ("Archive",), now - timedelta(days=200)),
        ("https://news.example/d", ("Unpublished",), None),
    ]
    async with db.transaction() as session:
        for url, topics, pushed_at in articles:
            stored = await store_article(
                session, draft=ArticleDraft(title="T", url=url, topics=topics)
            )
            if pushed_at is not None:
                assert stored.article.id is not None
                await mark_published(session, article_id=stored.article.id, at=pushed_at)
    async with db.transaction() as session:
        sections = await known_sections(session, since=now - timedelta(days=90))
    assert sections == ["politics", "science", "world news"]


async def test_reader_choices_count_the_chats_receiving_articles(db: Database) -> None:
    """Per delivery mode and per section followed, only subscribed active chats are counted;
    a chat following no section in particular counts as following all."""
    chats = [
        (1, DeliveryMode.INSTANT, ["sport"], True),
        (2, DeliveryMode.DAILY, ["sport", "world news"], True),
        (3, DeliveryMode.DAILY, [], True),
        (4, DeliveryMode.WEEKLY, ["sport"], False),  # blocked the bot: not receiving
    ]
    async with db.transaction() as session:
        for chat_id, mode, sections, active in chats:
            await upsert_chat(session, chat_id=chat_id, kind=ChatKind.PRIVATE, title=None)
            await subscribe_chat(session, chat_id=chat_id)
            await set_sections(session, chat_id=chat_id, sections=sections)
            hour = None if mode is DeliveryMode.INSTANT else 8
            weekday = 0 if mode is DeliveryMode.WEEKLY else None
            await set_delivery_mode(
                session, chat_id=chat_id, mode=mode, hour=hour, weekday=weekday
            )
            if not active:
                await mark_chat_stopped(session, chat_id=chat_id, reason=StopReason.BLOCKED)
        await upsert_chat(
            session, chat_id=5, kind=ChatKind.PRIVATE, title=None
        )  # never subscribed
    async with db.transaction() as session:
        choices = await reader_choices(session)
        of_world_news = await reader_choices(session, sections=["world news"])
    assert choices == ReaderChoices(
        delivery_modes={DeliveryMode.INSTANT: 1, DeliveryMode.DAILY: 2},
        sections={"sport": 2, "world news": 1},
        all_sections=1,
    )
    # An article's readers: those who follow its section, and those who follow every section.
    assert of_world_news == ReaderChoices(
        delivery_modes={DeliveryMode.DAILY: 2}, sections={"world news": 1}, all_sections=1
    )


async def test_a_group_becoming_a_supergroup_keeps_its_readers_choices(db: Database) -> None:
    """The supergroup takes over the group's sections, digest, quiet hours and time zone."""
    group_id, supergroup_id = -4_000_002, -1_009_876_543_210
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=group_id, kind=ChatKind.GROUP, title="Club")
        await subscribe_chat(session, chat_id=group_id)
        await set_sections(session, chat_id=group_id, sections=["Science"])
        await set_delivery_mode(
            session, chat_id=group_id, mode=DeliveryMode.WEEKLY, hour=9, weekday=4
        )
        await set_quiet_hours(session, chat_id=group_id, start=23 * 60, end=6 * 60)
        await set_timezone(session, chat_id=group_id, timezone="Europe/Paris")
        await migrate_chat(session, old_id=group_id, new_id=supergroup_id)
    async with db.transaction() as session:
        moved = await chat_preferences(session, chat_id=supergroup_id)
    assert moved == ChatPreferences(
        chat_id=supergroup_id,
        sections=("science",),
        delivery_mode=DeliveryMode.WEEKLY,
        digest_hour=9,
        digest_weekday=4,
        quiet_from=23 * 60,
        quiet_until=6 * 60,
        timezone="Europe/Paris",
    )
