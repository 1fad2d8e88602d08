"""Readers' choices for a chat: the sections it follows, how articles reach it (instant, daily or
weekly digest), its quiet hours and its time zone; the sections the publisher has lately used;
and how many readers chose what (for /stats).

Every function takes the caller's session and never commits. Setters check their values and raise
`ValueError` (with a one-line reason) for anything the bot must not store, and
`storage.chats.UnknownChatError` for a chat without a row. A forum topic follows its chat's
preferences.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from newsroom.sections import section_names
from storage.chats import UnknownChatError
from storage.models import Article, ArticleStatus, Chat, DeliveryMode
from storage.sections import followed_sections, follows_all, follows_any
from storage.types import utcnow

MINUTES_PER_DAY = 24 * 60
HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class ReaderChoices:
    """What the chats receiving articles chose: how many per delivery mode, per section
    followed, and how many follow every section."""

    delivery_modes: dict[DeliveryMode, int]
    sections: dict[str, int]
    all_sections: int


@dataclass(frozen=True)
class ChatPreferences:
    """What one chat chose. ``sections`` empty means every section; quiet hours are minutes after
    local midnight (``quiet_from`` may be later than ``quiet_until``: the range spans midnight);
    ``timezone`` None means the bot's TIMEZONE."""

    chat_id: int
    sections: tuple[str, ...]
    delivery_mode: DeliveryMode
    digest_hour: int | None
    digest_weekday: int | None
    quiet_from: int | None
    quiet_until: int | None
    timezone: str | None

    @property
    def follows_all_sections(self) -> bool:
        return not self.sections

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_from is not None and self.quiet_until is not None


def _preferences(chat: Chat) -> ChatPreferences:
    return ChatPreferences(
        chat_id=chat.id,
        sections=tuple(chat.topics),
        delivery_mode=DeliveryMode(chat.delivery_mode),
        digest_hour=chat.digest_hour,
        digest_weekday=chat.digest_weekday,
        quiet_from=chat.quiet_from,
        quiet_until=chat.quiet_until,
        timezone=chat.timezone,
    )


async def chat_preferences(session: AsyncSession, *, chat_id: int) -> ChatPreferences | None:
    """The chat's choices, or None for a chat the bot has no row for."""
    chat = await session.get(Chat, chat_id)
    return None if chat is None else _preferences(chat)


async def _changed(session: AsyncSession, chat: Chat) -> ChatPreferences:
    chat.updated_at = utcnow()
    session.add(chat)
    await session.flush()
    return _preferences(chat)


async def _chat(session: AsyncSession, chat_id: int) -> Chat:
    if (chat := await session.get(Chat, chat_id)) is None:
        raise UnknownChatError(chat_id)
    return chat


async def set_sections(
    session: AsyncSession, *, chat_id: int, sections: Iterable[str]
) -> ChatPreferences:
    """Follow exactly these sections (normalised, sorted); none means every section."""
    chat = await _chat(session, chat_id)
    chat.topics = sorted(section_names(sections))
    return await _changed(session, chat)


async def set_delivery_mode(
    session: AsyncSession,
    *,
    chat_id: int,
    mode: DeliveryMode,
    hour: int | None = None,
    weekday: int | None = None,
) -> ChatPreferences:
    """Instant delivery, a daily digest at ``hour`` (0-23, local), or a weekly one on
    ``weekday`` (0 is Monday) at ``hour``. Instant clears the digest's hour and day."""
    if mode is DeliveryMode.INSTANT:
        hour = weekday = None
    else:
        if hour is None or not 0 <= hour < HOURS_PER_DAY:
            raise ValueError(f"a digest needs an hour from 0 to 23 (got {hour})")
        if mode is DeliveryMode.DAILY:
            weekday = None
        elif weekday is None or not 0 <= weekday < DAYS_PER_WEEK:
            raise ValueError(f"a weekly digest needs a day from 0 (Monday) to 6 (got {weekday})")
    chat = await _chat(session, chat_id)
    chat.delivery_mode = mode
    chat.digest_hour = hour
    chat.digest_weekday = weekday
    return await _changed(session, chat)


async def set_quiet_hours(
    session: AsyncSession, *, chat_id: int, start: int | None, end: int | None
) -> ChatPreferences:
    """Quiet from ``start`` until ``end`` (minutes after local midnight; may span midnight);
    both None turns quiet hours off."""
    if (start is None) != (end is None):
        raise ValueError("quiet hours need both a start and an end")
    if start is not None and end is not None:
        for minute in (start, end):
            if not 0 <= minute < MINUTES_PER_DAY:
                raise ValueError(f"{minute} is not a time of day (minutes 0 to 1439)")
        if start == end:
            raise ValueError("quiet hours must start and end at different times")
    chat = await _chat(session, chat_id)
    chat.quiet_from = start
    chat.quiet_until = end
    return await _changed(session, chat)


def is_known_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (Europe/Berlin, UTC, ...)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def set_timezone(
    session: AsyncSession, *, chat_id: int, timezone: str | None
) -> ChatPreferences:
    """Use this IANA time zone for the chat's digests and quiet hours; None: the bot's own."""
    if timezone is not None and not is_known_timezone(timezone):
        raise ValueError(f"unknown time zone {timezone!r}")
    chat = await _chat(session, chat_id)
    chat.timezone = timezone
    return await _changed(session, chat)


async def known_sections(session: AsyncSession, *, since: datetime) -> list[str]:
    """The sections (normalised, sorted) of the articles published since ``since``."""
    rows = await session.exec(
        select(col(Article.topics)).where(
            col(Article.status) == ArticleStatus.PUBLISHED, col(Article.pushed_at) >= since
        )
    )
    return sorted({name for topics in rows for name in section_names(topics)})


async def reader_choices(
    session: AsyncSession, *, sections: Collection[str] = ()
) -> ReaderChoices:
    """How the chats receiving articles now (subscribed and active) chose, counted in SQL;
    with `sections`, only the chats that follow one of them (or every section), and only
    those sections counted."""
    receiving: tuple[sa.ColumnElement[bool], ...] = (
        col(Chat.subscribed).is_(True),
        col(Chat.active).is_(True),
    )
    if sections:
        receiving = (*receiving, follows_any(session, list(sections)))
    modes = await session.exec(
        select(col(Chat.delivery_mode), sa.func.count())
        .where(*receiving)
        .group_by(col(Chat.delivery_mode))
    )
    elements = followed_sections(session)
    counted = (elements.c.value.in_(list(sections)),) if sections else ()
    per_section = await session.exec(
        select(elements.c.value, sa.func.count())
        .select_from(Chat)
        .join(elements, sa.true())
        .where(*receiving, *counted)
        .group_by(elements.c.value)
    )
    everything = await session.exec(
        select(sa.func.count()).select_from(Chat).where(*receiving, follows_all())
    )
    return ReaderChoices(
        delivery_modes={DeliveryMode(mode): int(count) for mode, count in modes},
        sections={str(name): int(count) for name, count in per_section},
        all_sections=int(everything.one()),
    )
