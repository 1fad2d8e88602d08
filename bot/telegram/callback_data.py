"""The bot's callback data: a compact, versioned text format and the typed values it carries.

Every inline button the bot sends carries ``<version>:<kind>:<fields...>``, ids in lowercase
base 36, e.g. ``1:v:2s:3`` (vote for option 3 of poll 100). :func:`parse` turns data from a
callback query back into exactly one typed value, or ``None`` for anything forged, garbled or
written by an older version, which handlers answer politely instead of acting on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

from newsroom.poll import MAX_POLL_OPTIONS

VERSION = "1"
# Id columns are 32-bit INTEGER on PostgreSQL: a larger id could only ever be forged.
MAX_ID = 2**31 - 1
MAX_BYTES = 64  # Telegram's callback_data limit

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# canonical base 36 only: no sign, no leading zero, no uppercase, at most 6 digits (2**31 - 1)
_ID = r"(0|[1-9a-z][0-9a-z]{0,5})"
_PATTERNS = {
    "v": re.compile(rf"{_ID}:([0-9])", re.ASCII),
    "c": re.compile(_ID, re.ASCII),
    "b": re.compile(rf"{_ID}:([01])", re.ASCII),
    "q": re.compile(_ID, re.ASCII),
}


def _check_id(name: str, value: int) -> None:
    # bool is an int subclass; True as an id is always a caller's mistake
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise ValueError(f"{name} must be an integer in 0..2**31-1, got {value!r}")


@dataclass(frozen=True)
class VoteTap:
    """A reader tapped option ``option`` (position 0..9) of poll ``poll_id``."""

    poll_id: int
    option: int

    def __post_init__(self) -> None:
        _check_id("poll_id", self.poll_id)
        # Positions travel as one digit: room for every option a poll may have, no more.
        if type(self.option) is not int or not 0 <= self.option < MAX_POLL_OPTIONS:
            raise ValueError(
                f"option must be a position in 0..{MAX_POLL_OPTIONS - 1}, got {self.option!r}"
            )


@dataclass(frozen=True)
class ClosedPollTap:
    """A reader tapped the "Poll closed" button of poll ``poll_id``."""

    poll_id: int

    def __post_init__(self) -> None:
        _check_id("poll_id", self.poll_id)


@dataclass(frozen=True)
class BroadcastDecision:
    """An editor confirmed (``send``) or called off a prepared broadcast."""

    broadcast_id: int
    send: bool

    def __post_init__(self) -> None:
        _check_id("broadcast_id", self.broadcast_id)
        if type(self.send) is not bool:
            raise ValueError(f"send must be a bool, got {self.send!r}")


@dataclass(frozen=True)
class QueueCancel:
    """An editor cancelled the scheduled item ``job_id``."""

    job_id: int

    def __post_init__(self) -> None:
        _check_id("job_id", self.job_id)


CallbackValue: TypeAlias = VoteTap | ClosedPollTap | BroadcastDecision | QueueCancel


def _base36(number: int) -> str:
    if number == 0:
        return "0"
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_DIGITS[digit])
    return "".join(reversed(digits))


def encode(value: CallbackValue) -> str:
    """The callback data for ``value``; at most 19 ASCII bytes for any valid value."""
    match value:
        case VoteTap(poll_id=poll_id, option=option):
            fields = ["v", _base36(poll_id), str(option)]
        case ClosedPollTap(poll_id=poll_id):
            fields = ["c", _base36(poll_id)]
        case BroadcastDecision(broadcast_id=broadcast_id, send=send):
            fields = ["b", _base36(broadcast_id), "1" if send else "0"]
        case QueueCancel(job_id=job_id):
            fields = ["q", _base36(job_id)]
    return ":".join([VERSION, *fields])


def parse(data: str) -> CallbackValue | None:
    """The typed value behind ``data``, or ``None`` if it is not data this version wrote."""
    version, _, rest = data.partition(":")
    kind, _, fields = rest.partition(":")
    pattern = _PATTERNS.get(kind)
    if version != VERSION or pattern is None or (match := pattern.fullmatch(fields)) is None:
        return None
    number = int(match.group(1), 36)
    if number > MAX_ID:
        return None
    if kind == "v":
        return VoteTap(poll_id=number, option=int(match.group(2)))
    if kind == "c":
        return ClosedPollTap(poll_id=number)
    if kind == "b":
        return BroadcastDecision(broadcast_id=number, send=match.group(2) == "1")
    return QueueCancel(job_id=number)
