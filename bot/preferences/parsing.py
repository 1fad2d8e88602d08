"""What readers type after /quiet and /timezone, read into values the storage setters take."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from zoneinfo import available_timezones

# "22:30-07:00", "22-7", "22.30 - 07.00": hours 0-23, optional minutes, a hyphen or dash between.
_RANGE = re.compile(
    r"(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*[-\u2013\u2014]\s*(?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?",
    re.ASCII,
)
QUIET_OFF_WORDS = frozenset({"off", "none", "no"})
BOT_ZONE_WORDS = frozenset({"default", "reset", "off"})


@dataclass(frozen=True)
class QuietRange:
    """Quiet hours from ``start`` until ``end``, in minutes after local midnight."""

    start: int
    end: int


def parse_quiet(text: str) -> QuietRange | None:
    """The range ``text`` names, or None when it is no range of two times of day (start and end
    may be equal: the caller refuses that with its own reason)."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        return None
    times: list[int] = []
    for hour, minute in ((match["h1"], match["m1"]), (match["h2"], match["m2"])):
        hours, minutes = int(hour), int(minute or 0)
        if hours > 23 or minutes > 59:  # the last hour and minute of a day
            return None
        times.append(hours * 60 + minutes)
    return QuietRange(*times)


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    # Read once: available_timezones() walks the whole zone database.
    return {name.casefold(): name for name in available_timezones()}


def find_zone(text: str) -> str | None:
    """The IANA zone ``text`` names, spelled as the zone database spells it ("europe/berlin"
    gives "Europe/Berlin"), or None for a name the database does not have."""
    return _zones_by_folded_name().get(text.strip().casefold())
