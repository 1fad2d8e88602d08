"""The /settings message: each screen's text and buttons, and the one-line summaries of a chat's
choices that screens, toasts and command replies share."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.preferences.offers import (
    COMMON_ZONES,
    HOURS_PER_DAY,
    QUIET_RANGES,
    WEEKDAYS,
    clock,
    quiet_range,
    section_key,
)
from bot.telegram.callback_data import SettingsAction, SettingsTap, encode
from newsroom.plaintext import shorten
from storage.models import DeliveryMode
from storage.preferences import ChatPreferences

CHOSEN = "✅ "
BACK = "« Back"
SECTION_BUTTON_CHARS = 32
SUMMARY_CHARS = 300
HOURS_PER_ROW = 6


@dataclass(frozen=True)
class Audience:
    """Whose settings a message shows: ``label`` names them ("this chat", a group's title, a
    channel's @name); ``channel_id`` is set for a channel managed from a private chat."""

    label: str
    channel_id: int | None
    bot_zone: str


@dataclass(frozen=True)
class Screen:
    """One state of the settings message: HTML text and its keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup


def sections_summary(preferences: ChatPreferences) -> str:
    if preferences.follows_all_sections:
        return "all sections"
    return shorten(", ".join(preferences.sections), SUMMARY_CHARS)


def digest_time(hour: int | None) -> str:
    return clock((hour or 0) * 60)


def delivery_summary(preferences: ChatPreferences) -> str:
    match preferences.delivery_mode:
        case DeliveryMode.DAILY:
            return f"daily digest at {digest_time(preferences.digest_hour)}"
        case DeliveryMode.WEEKLY:
            day = WEEKDAYS[preferences.digest_weekday or 0]
            return f"weekly digest on {day}s at {digest_time(preferences.digest_hour)}"
        case _:
            return "instant, each article as it is published"


def quiet_summary(preferences: ChatPreferences) -> str:
    if preferences.quiet_from is None or preferences.quiet_until is None:
        return "off"
    return quiet_range(preferences.quiet_from, preferences.quiet_until)


def zone_summary(preferences: ChatPreferences, bot_zone: str) -> str:
    return preferences.timezone or f"{bot_zone} (the bot's default)"


def render(
    action: SettingsAction,
    preferences: ChatPreferences,
    audience: Audience,
    *,
    sections: tuple[str, ...] = (),
    day: int = 0,
) -> Screen:
    """The screen ``action`` shows (for a change: the screen its button is on); ``sections``
    are those offered, ``day`` the weekday whose hours a weekly digest may pick."""
    if action in _SECTION_ACTIONS:
        return _sections(preferences, audience, sections)
    if action is SettingsAction.DAILY_HOURS:
        return _hours(preferences, audience, day=None)
    if action is SettingsAction.WEEKLY_HOURS:
        return _hours(preferences, audience, day=day)
    return _SCREENS.get(action, _main)(preferences, audience)


def _button(
    text: str, audience: Audience, action: SettingsAction, value: int = 0
) -> InlineKeyboardButton:
    data = encode(SettingsTap(action, value, audience.channel_id))
    return InlineKeyboardButton(text, callback_data=data)


def _marked(text: str, chosen: bool) -> str:
    return f"{CHOSEN}{text}" if chosen else text


def _back(
    audience: Audience, to: SettingsAction = SettingsAction.MAIN
) -> list[InlineKeyboardButton]:
    return [_button(BACK, audience, to)]


def _title(audience: Audience, what: str) -> str:
    return f"⚙️ <b>{what} for {escape(audience.label)}</b>"


def _main(preferences: ChatPreferences, audience: Audience) -> Screen:
    lines = [
        _title(audience, "Settings"),
        f"Sections: {escape(sections_summary(preferences))}",
        f"Delivery: {delivery_summary(preferences)}",
        f"Quiet hours: {quiet_summary(preferences)}",
        f"Time zone: {escape(zone_summary(preferences, audience.bot_zone))}",
        "",
        "Tap a button to change one.",
    ]
    rows = [
        [
            _button("Sections", audience, SettingsAction.SECTIONS),
            _button("Delivery", audience, SettingsAction.DELIVERY),
        ],
        [
            _button("Quiet hours", audience, SettingsAction.QUIET),
            _button("Time zone", audience, SettingsAction.ZONES),
        ],
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _sections(
    preferences: ChatPreferences, audience: Audience, sections: tuple[str, ...]
) -> Screen:
    lines = [_title(audience, "Sections"), f"Following: {escape(sections_summary(preferences))}"]
    if sections:
        lines.append("Tap a section to follow or stop following it.")
    else:
        lines.append("The publisher has no sections yet: every article comes here.")
    followed = set(preferences.sections)
    buttons = [
        _button(
            _marked(shorten(name, SECTION_BUTTON_CHARS), name in followed),
            audience,
            SettingsAction.TOGGLE_SECTION,
            section_key(name),
        )
        for name in sections
    ]
    rows = [
        [
            _button(
                _marked("All sections", preferences.follows_all_sections),
                audience,
                SettingsAction.ALL_SECTIONS,
            )
        ],
        *(buttons[i : i + 2] for i in range(0, len(buttons), 2)),
        _back(audience),
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _delivery(preferences: ChatPreferences, audience: Audience) -> Screen:
    mode = preferences.delivery_mode
    lines = [
        _title(audience, "Delivery"),
        f"Now: {delivery_summary(preferences)}.",
        f"Digest hours are in {escape(preferences.timezone or audience.bot_zone)}.",
    ]
    rows = [
        [
            _button(
                _marked("Instant", mode is DeliveryMode.INSTANT), audience, SettingsAction.INSTANT
            )
        ],
        [
            _button(
                _marked("Daily digest", mode is DeliveryMode.DAILY),
                audience,
                SettingsAction.DAILY_HOURS,
            ),
            _button(
                _marked("Weekly digest", mode is DeliveryMode.WEEKLY),
                audience,
                SettingsAction.WEEKLY_DAYS,
            ),
        ],
        _back(audience),
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _hours(preferences: ChatPreferences, audience: Audience, *, day: int | None) -> Screen:
    weekly = day is not None
    mode = DeliveryMode.WEEKLY if weekly else DeliveryMode.DAILY
    chosen_day = preferences.digest_weekday if weekly else None
    picked = preferences.delivery_mode is mode and chosen_day == day
    what = f"Weekly digest on {WEEKDAYS[day]}s" if day is not None else "Daily digest"
    zone = escape(preferences.timezone or audience.bot_zone)
    lines = [_title(audience, what), f"Pick the hour it arrives ({zone})."]
    buttons = [
        _button(
            _marked(digest_time(hour), picked and preferences.digest_hour == hour),
            audience,
            SettingsAction.WEEKLY if day is not None else SettingsAction.DAILY,
            day * HOURS_PER_DAY + hour if day is not None else hour,
        )
        for hour in range(HOURS_PER_DAY)
    ]
    back = SettingsAction.WEEKLY_DAYS if weekly else SettingsAction.DELIVERY
    rows = [
        *(buttons[i : i + HOURS_PER_ROW] for i in range(0, HOURS_PER_DAY, HOURS_PER_ROW)),
        _back(audience, back),
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _days(preferences: ChatPreferences, audience: Audience) -> Screen:
    weekly = preferences.delivery_mode is DeliveryMode.WEEKLY
    lines = [_title(audience, "Weekly digest"), "Pick the day it arrives."]
    buttons = [
        _button(
            _marked(name, weekly and preferences.digest_weekday == day),
            audience,
            SettingsAction.WEEKLY_HOURS,
            day,
        )
        for day, name in enumerate(WEEKDAYS)
    ]
    rows = [buttons[0:4], buttons[4:], _back(audience, SettingsAction.DELIVERY)]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _quiet(preferences: ChatPreferences, audience: Audience) -> Screen:
    lines = [
        _title(audience, "Quiet hours"),
        f"Now: {quiet_summary(preferences)}. New articles arriving then wait until they end.",
        "Any range: send /quiet 22:30-07:00 (or /quiet off).",
    ]
    current = (preferences.quiet_from, preferences.quiet_until)
    ranges = [
        _button(
            _marked(quiet_range(*span), current == span),
            audience,
            SettingsAction.QUIET_RANGE,
            index,
        )
        for index, span in enumerate(QUIET_RANGES)
    ]
    rows = [
        [
            _button(
                _marked("Off", not preferences.has_quiet_hours), audience, SettingsAction.QUIET_OFF
            )
        ],
        *(ranges[i : i + 2] for i in range(0, len(ranges), 2)),
        _back(audience),
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _zones(preferences: ChatPreferences, audience: Audience) -> Screen:
    lines = [
        _title(audience, "Time zone"),
        f"Now: {escape(zone_summary(preferences, audience.bot_zone))}.",
        "Digests and quiet hours follow it.",
        "Any zone: send /timezone Europe/Berlin (an IANA name).",
    ]
    zones = [
        _button(_marked(zone, preferences.timezone == zone), audience, SettingsAction.ZONE, index)
        for index, zone in enumerate(COMMON_ZONES)
    ]
    default = f"The bot's default ({audience.bot_zone})"
    rows = [
        [
            _button(
                _marked(default, preferences.timezone is None), audience, SettingsAction.BOT_ZONE
            )
        ],
        *(zones[i : i + 2] for i in range(0, len(zones), 2)),
        _back(audience),
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


_SECTION_ACTIONS = frozenset(
    {SettingsAction.SECTIONS, SettingsAction.TOGGLE_SECTION, SettingsAction.ALL_SECTIONS}
)
# The screen each other button shows: a change stays on the screen its button is on.
_SCREENS = {
    SettingsAction.DELIVERY: _delivery,
    SettingsAction.INSTANT: _delivery,
    SettingsAction.DAILY: _delivery,
    SettingsAction.WEEKLY: _delivery,
    SettingsAction.WEEKLY_DAYS: _days,
    SettingsAction.QUIET: _quiet,
    SettingsAction.QUIET_OFF: _quiet,
    SettingsAction.QUIET_RANGE: _quiet,
    SettingsAction.ZONES: _zones,
    SettingsAction.BOT_ZONE: _zones,
    SettingsAction.ZONE: _zones,
}
