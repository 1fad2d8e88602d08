"""What the settings buttons offer: the publisher's sections, digest hours and days, common quiet
ranges and time zones, and the short key a section's button carries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import preferences

# Without SECTIONS, the topics of articles published this recently are the sections offered.
RECENT_SECTIONS = timedelta(days=90)
# Telegram allows 100 buttons; a screen keeps room for its others and stays readable.
MAX_SECTION_BUTTONS = 40
QUIET_RANGES = (
    (22 * 60, 7 * 60),
    (23 * 60, 8 * 60),
    (21 * 60, 6 * 60),
    (0, 7 * 60),
)
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS_PER_DAY = 24


def section_key(name: str) -> int:
    """A section's key in callback data: 31 bits of its name's hash (names may be long)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") & 0x7FFF_FFFF


def section_with_key(key: int, names: Iterable[str]) -> str | None:
    """The section among ``names`` whose key is ``key``: None when it is no longer offered."""
    return next((name for name in names if section_key(name) == key), None)


async def offered_sections(
    session: AsyncSession, *, configured: tuple[str, ...], followed: Iterable[str], now: datetime
) -> tuple[str, ...]:
    """SECTIONS (else recent articles' topics), plus those the chat still follows, sorted; at
    most MAX_SECTION_BUTTONS, the followed ones always kept so they can be unfollowed."""
    publisher = configured or tuple(
        await preferences.known_sections(session, since=now - RECENT_SECTIONS)
    )
    kept = set(followed)
    room = max(MAX_SECTION_BUTTONS - len(kept), 0)
    others = [name for name in sorted(set(publisher)) if name not in kept][:room]
    return tuple(sorted(kept.union(others)))


def clock(minutes: int) -> str:
    """Minutes after midnight as "HH:MM"."""
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}"


def quiet_range(start: int, end: int) -> str:
    return f"{clock(start)}\u2013{clock(end)}"
