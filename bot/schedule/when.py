"""Reading "at 18:00" and "at 2026-12-01 09:00" in the bot's time zone, for scheduled actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# "at" then an optional date and a time, as whole words; group "when" is the moment.
AT_PATTERN = r"\bat\s+(?P<when>(?:\d{4}-\d{2}-\d{2}\s+)?\d{1,2}:\d{2})(?=\s|$)"
_AT = re.compile(AT_PATTERN, re.IGNORECASE)
_MOMENT = re.compile(
    r"(?:(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})"
)


class WhenError(ValueError):
    """A time the admin wrote that cannot be used; the message says why, for the admin."""


def find_at(text: str) -> re.Match[str] | None:
    """The first "at [YYYY-MM-DD] HH:MM" in `text`, if any."""
    return _AT.search(text)


def parse_moment(when: str, *, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """The aware UTC instant "HH:MM" (today) or "YYYY-MM-DD HH:MM" names in `zone`.

    Raises WhenError for an impossible date or a time that has already passed.
    """
    match = _MOMENT.fullmatch(when.strip())
    if match is None:
        raise WhenError(f"{when!r} is not a time; write HH:MM or YYYY-MM-DD HH:MM.")
    local_now = (now or datetime.now(UTC)).astimezone(zone)
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    try:
        if match.group("year") is None:
            local = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        else:
            year, month, day = (int(match.group(name)) for name in ("year", "month", "day"))
            local = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        raise WhenError(f"{when} is not a valid date and time.") from None
    if local <= local_now:
        raise WhenError(
            f"{local:%Y-%m-%d %H:%M} ({zone.key}) has already passed; "
            "give a later time, e.g. at 2026-12-01 09:00."
        )
    return local.astimezone(UTC)


def describe_moment(value: datetime, zone: ZoneInfo) -> str:
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
