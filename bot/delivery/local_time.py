"""A chat's own clock: its time zone, whether a moment falls in its quiet hours (and when they
end), and which digest period a moment belongs to.

Quiet hours and digest times are stored as the reader chose them, in local time: quiet hours as
minutes after local midnight (from, until; a range may cross midnight), digests as a local hour
(and, weekly, a weekday, 0 being Monday). Everything here is plain datetime arithmetic on aware
values; the answers are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import DeliveryMode

MINUTES_PER_DAY = 24 * 60
# A digest chat that never picked an hour or a day gets its digest at 08:00, weekly on Monday.
DEFAULT_DIGEST_HOUR = 8
DEFAULT_DIGEST_WEEKDAY = 0
_PERIOD_LENGTH = {DeliveryMode.DAILY: timedelta(days=1), DeliveryMode.WEEKLY: timedelta(days=7)}


def chat_zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The chat's zone, or the bot's when the chat has none (or one this system does not know)."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A zone removed from the system's database must not stop the chat's deliveries.
        return default


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant `minute` minutes after local midnight of `day` in `zone`, in UTC."""
    hours, minutes = divmod(minute, 60)
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


def quiet_hours_end(
    now: datetime, zone: ZoneInfo, quiet_from: int | None, quiet_until: int | None
) -> datetime | None:
    """When the quiet hours `now` falls in end (UTC), or None when `now` is not in them.

    The range holds `quiet_from` and excludes `quiet_until`; from > until crosses midnight
    (22:00-07:00), from == until (or either missing) means no quiet hours.
    """
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return None
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    today = local.date()
    if quiet_from < quiet_until:
        inside, end_day = quiet_from <= minute < quiet_until, today
    elif minute >= quiet_from:
        inside, end_day = True, today + timedelta(days=1)
    else:
        inside, end_day = minute < quiet_until, today
    if not inside:
        return None
    end = _local(end_day, quiet_until, zone)
    # A clock change can put the local end at or before now: then the hours end a day later.
    return end if end > now else _local(end_day + timedelta(days=1), quiet_until, zone)


@dataclass(frozen=True)
class DigestPeriod:
    """The digest period a moment belongs to: its key, and the instant its digest is due."""

    # "2026-12-03" for a daily digest, "2026-W49" (ISO week) for a weekly one.
    key: str
    due_at: datetime
    # How far back the first digest of a chat looks: one period.
    length: timedelta


def current_period(
    now: datetime,
    zone: ZoneInfo,
    mode: DeliveryMode,
    hour: int | None,
    weekday: int | None = None,
) -> DigestPeriod:
    """The latest digest period whose local due time (hour, and weekday for weekly) is `now` or
    before it."""
    if mode not in _PERIOD_LENGTH:
        raise ValueError(f"{mode} is not a digest mode")
    due_minute = (DEFAULT_DIGEST_HOUR if hour is None else hour) % 24 * 60
    local = now.astimezone(zone)
    day = local.date()
    if mode is DeliveryMode.WEEKLY:
        wanted = (DEFAULT_DIGEST_WEEKDAY if weekday is None else weekday) % 7
        day -= timedelta(days=(day.weekday() - wanted) % 7)
    due_at = _local(day, due_minute, zone)
    if due_at > now:
        day -= _PERIOD_LENGTH[mode]
        due_at = _local(day, due_minute, zone)
    if mode is DeliveryMode.DAILY:
        key = day.isoformat()
    else:
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
    return DigestPeriod(key, due_at, _PERIOD_LENGTH[mode])
