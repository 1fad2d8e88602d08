"""The bot's callback data: a compact, versioned text format and the typed values it carries.

Every inline button the bot sends carries ``<version>:<kind>:<fields...>``, ids in lowercase
base 36, e.g. ``1:v:2s:3`` (vote for option 3 of poll 100), or ``1:p:t:1b:cryl7kya`` (a
settings button of a channel: toggle a section). :func:`parse` turns data from a
callback query back into exactly one typed value, or ``None`` for anything forged, garbled or
written by an older version, which handlers answer politely instead of acting on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from newsroom.poll import MAX_POLL_OPTIONS

VERSION = "1"
# Id columns are 32-bit INTEGER on PostgreSQL: a larger id could only ever be forged.
MAX_ID = 2**31 - 1
MAX_BYTES = 64  # Telegram's callback_data limit

# Channel ids are -(10**12 + n) up to 52 bits; a settings button names its channel by -id.
MAX_CHANNEL_ID = 2**52

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# canonical base 36 only: no sign, no leading zero, no uppercase, at most 6 digits (2**31 - 1)
_ID = r"(0|[1-9a-z][0-9a-z]{0,5})"
_CHANNEL = r"([1-9a-z][0-9a-z]{0,10})"
_PATTERNS = {
    "v": re.compile(rf"{_ID}:([0-9])", re.ASCII),
    "c": re.compile(_ID, re.ASCII),
    "b": re.compile(rf"{_ID}:([01])", re.ASCII),
    "q": re.compile(_ID, re.ASCII),
    "u": re.compile(rf"{_ID}:([01])", re.ASCII),
    "p": re.compile(rf"([a-z]):{_ID}(?::{_CHANNEL})?", re.ASCII),
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


@dataclass(frozen=True)
class CorrectionDecision:
    """An editor confirmed (``confirm``) or called off a previewed correction or retraction."""

    correction_id: int
    confirm: bool

    def __post_init__(self) -> None:
        _check_id("correction_id", self.correction_id)
        if type(self.confirm) is not bool:
            raise ValueError(f"confirm must be a bool, got {self.confirm!r}")


class SettingsAction(StrEnum):
    """What a button of a /settings message does: show a screen, or change one preference."""

    MAIN = "m"
    SECTIONS = "s"
    DELIVERY = "d"
    DAILY_HOURS = "h"  # the hours a daily digest may go out at
    WEEKLY_DAYS = "w"
    WEEKLY_HOURS = "k"  # value: the day (0 is Monday) whose hours are offered
    QUIET = "q"
    ZONES = "z"
    TOGGLE_SECTION = "t"  # value: the section's key (bot/preferences/view.py)
    ALL_SECTIONS = "a"
    INSTANT = "i"
    DAILY = "e"  # value: the hour
    WEEKLY = "f"  # value: day * 24 + hour
    QUIET_OFF = "o"
    QUIET_RANGE = "r"  # value: which of the offered ranges
    BOT_ZONE = "n"
    ZONE = "u"  # value: which of the offered zones


_SETTINGS_ACTIONS = {action.value: action for action in SettingsAction}


@dataclass(frozen=True)
class SettingsTap:
    """A button of a /settings message: ``action`` with its ``value`` (0 when it has none), for
    the chat the message is in, or for the channel ``channel_id`` its admin manages privately."""

    action: SettingsAction
    value: int = 0
    channel_id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.action, SettingsAction):
            raise ValueError(f"action must be a SettingsAction, got {self.action!r}")
        _check_id("value", self.value)
        channel = self.channel_id
        if channel is not None and (type(channel) is not int or not -MAX_CHANNEL_ID < channel < 0):
            raise ValueError(f"channel_id must be a channel's (negative) id, got {channel!r}")


CallbackValue: TypeAlias = (
    VoteTap | ClosedPollTap | BroadcastDecision | QueueCancel | SettingsTap | CorrectionDecision
)


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
        case CorrectionDecision(correction_id=correction_id, confirm=confirm):
            fields = ["u", _base36(correction_id), "1" if confirm else "0"]
        case SettingsTap(action=action, value=number, channel_id=channel_id):
            fields = ["p", action.value, _base36(number)]
            if channel_id is not None:
                fields.append(_base36(-channel_id))
    return ":".join([VERSION, *fields])


def parse(data: str) -> CallbackValue | None:
    """The typed value behind ``data``, or ``None`` if it is not data this version wrote."""
    version, _, rest = data.partition(":")
    kind, _, fields = rest.partition(":")
    pattern = _PATTERNS.get(kind)
    if version != VERSION or pattern is None or (match := pattern.fullmatch(fields)) is None:
        return None
    if kind == "p":
        return _settings_tap(match)
    number = int(match.group(1), 36)
    return None if number > MAX_ID else _id_value(kind, number, match)


def _id_value(kind: str, number: int, match: re.Match[str]) -> CallbackValue:
    """The value of a kind whose first field is an id (``number``, checked already)."""
    if kind == "v":
        return VoteTap(poll_id=number, option=int(match.group(2)))
    if kind == "c":
        return ClosedPollTap(poll_id=number)
    if kind == "b":
        return BroadcastDecision(broadcast_id=number, send=match.group(2) == "1")
    if kind == "u":
        return CorrectionDecision(correction_id=number, confirm=match.group(2) == "1")
    return QueueCancel(job_id=number)


def _settings_tap(match: re.Match[str]) -> SettingsTap | None:
    action = _SETTINGS_ACTIONS.get(match.group(1))
    number = int(match.group(2), 36)
    channel = None if match.group(3) is None else -int(match.group(3), 36)
    if action is None or number > MAX_ID or (channel is not None and channel <= -MAX_CHANNEL_ID):
        return None
    return SettingsTap(action, number, channel)
