"""/settings, its buttons, /timezone and /quiet: every change stored at once, then answered
with a toast (a tap) or one line (a command); the settings message is edited in place.

A tap is checked (its data, whose settings, the tapper's rights), its change stored and
committed, and only then answered and the message edited.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.polls.votes import NOT_VALID
from bot.preferences import view
from bot.preferences.audience import Whose, command_audience, tap_audience
from bot.preferences.offers import (
    COMMON_ZONES,
    HOURS_PER_DAY,
    QUIET_RANGES,
    WEEKDAYS,
    offered_sections,
    quiet_range,
    section_with_key,
)
from bot.preferences.parsing import BOT_ZONE_WORDS, QUIET_OFF_WORDS, find_zone, parse_quiet
from bot.services import BotContext
from bot.telegram.callback_data import SettingsAction, SettingsTap, parse
from bot.telegram.command_input import echo
from bot.telegram.errors import Failure, classify
from storage import preferences
from storage.models import DeliveryMode
from storage.preferences import ChatPreferences

log = logging.getLogger(__name__)

ZONE_NOW = (
    "Time zone for {label}: {zone}. To change it: /timezone Europe/Berlin (any IANA name), "
    "or /timezone default."
)
ZONE_SET = "🕑 Time zone for {label}: {zone}. Digests and quiet hours follow it."
ZONE_UNKNOWN = (
    "I don't know the time zone '{name}'. Send an IANA name such as /timezone Europe/Berlin."
)
QUIET_NOW = (
    "Quiet hours for {label}: {quiet}. Send /quiet 22:30-07:00 for any range, "
    "or /quiet off to end them."
)
QUIET_SET = (
    "🌙 Quiet hours for {label}: {quiet} ({zone}). New articles arriving then wait until they end."
)
QUIET_CLEARED = "Quiet hours for {label}: off. Articles arrive at any hour."
QUIET_BAD = (
    "'{text}' is not a range of times. Send /quiet 22:30-07:00 (from-until, 24-hour clock), "
    "or /quiet off."
)
QUIET_EMPTY = "Quiet hours must end at another time than they start, e.g. /quiet 22:30-07:00."

SECTIONS_ALL = "Every section comes here."
SECTION_FOLLOWED = "Following {section}."
SECTION_DROPPED = "No longer following {section}."
SECTION_LAST_DROPPED = "No longer following {section}: every section comes here again."
INSTANT_SET = "Instant: each article as it is published."
DAILY_SET = "Daily digest at {time}."
WEEKLY_SET = "Weekly digest on {day}s at {time}."
QUIET_OFF_SET = "Quiet hours off."
QUIET_RANGE_SET = "Quiet hours {quiet}."
BOT_ZONE_SET = "Time zone: the bot's default ({zone})."
ZONE_PICKED = "Time zone: {zone}."
WEEK_HOURS = 7 * HOURS_PER_DAY


def is_settings_tap(data: object) -> bool:
    return isinstance(data, str) and isinstance(parse(data), SettingsTap)


async def _offered(
    session: AsyncSession, context: BotContext, chosen: ChatPreferences
) -> tuple[str, ...]:
    return await offered_sections(
        session,
        configured=context.services.settings.sections,
        followed=chosen.sections,
        now=datetime.now(UTC),
    )


async def settings(update: Update, context: BotContext) -> None:
    """/settings (or /settings @channel in private): the settings message, main screen."""
    if (message := update.effective_message) is None:
        return
    if (whose := await command_audience(update, context)) is None:
        return
    async with context.services.db.transaction() as session:
        chosen = await preferences.chat_preferences(session, chat_id=whose.chat_id)
    if chosen is None:
        return
    screen = view.render(SettingsAction.MAIN, chosen, whose.audience)
    await message.reply_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)


@dataclass(frozen=True)
class _Outcome:
    """What a tap did: the toast (None for a move between screens) and the screen to show."""

    toast: str | None
    screen: view.Screen


async def settings_tap(update: Update, context: BotContext) -> None:
    """A tap on a settings button: store the change, toast it, edit the message in place."""
    query = update.callback_query
    if query is None or not isinstance(tap := parse(query.data or ""), SettingsTap):
        return
    whose = await tap_audience(update, context, tap)
    if isinstance(whose, str):
        await query.answer(whose)
        return
    async with context.services.db.transaction() as session:
        outcome = await _apply(session, context, whose, tap)
    if outcome is None:
        await query.answer(NOT_VALID)
        return
    await query.answer(outcome.toast)
    await _show(query, outcome.screen)


async def _show(query: CallbackQuery, screen: view.Screen) -> None:
    try:
        await query.edit_message_text(
            screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
        )
    except TelegramError as error:
        # A tap that changed nothing (the same screen again), or a message deleted meanwhile.
        if classify(error) not in {Failure.NOT_MODIFIED, Failure.MESSAGE_GONE}:
            raise
        log.debug("settings message not edited: %s", error)


async def _apply(
    session: AsyncSession, context: BotContext, whose: Whose, tap: SettingsTap
) -> _Outcome | None:
    """Store what the tap asks and say what to show; None for a button no longer valid."""
    if (chosen := await preferences.chat_preferences(session, chat_id=whose.chat_id)) is None:
        return None
    action = tap.action
    if action is SettingsAction.TOGGLE_SECTION:
        return await _toggle_section(session, context, whose, chosen, tap.value)
    toast: str | None = None
    if (change := _CHANGES.get(action)) is not None:
        if (changed := await change(session, whose, tap.value)) is None:
            return None
        chosen, toast = changed
    elif action is SettingsAction.WEEKLY_HOURS and tap.value >= len(WEEKDAYS):
        return None
    wants_sections = action in {SettingsAction.SECTIONS, SettingsAction.ALL_SECTIONS}
    sections = await _offered(session, context, chosen) if wants_sections else ()
    screen = view.render(action, chosen, whose.audience, sections=sections, day=tap.value)
    return _Outcome(toast, screen)


# A change a button makes: the chat's preferences after it and the toast, or None when the
# button's value is one no button the bot sends carries.
_Change = Callable[[AsyncSession, Whose, int], Awaitable[tuple[ChatPreferences, str] | None]]


async def _all_sections(
    session: AsyncSession, whose: Whose, _value: int
) -> tuple[ChatPreferences, str]:
    chosen = await preferences.set_sections(session, chat_id=whose.chat_id, sections=())
    return chosen, SECTIONS_ALL


async def _instant(
    session: AsyncSession, whose: Whose, _value: int
) -> tuple[ChatPreferences, str]:
    chosen = await preferences.set_delivery_mode(
        session, chat_id=whose.chat_id, mode=DeliveryMode.INSTANT
    )
    return chosen, INSTANT_SET


async def _daily(
    session: AsyncSession, whose: Whose, hour: int
) -> tuple[ChatPreferences, str] | None:
    if hour >= HOURS_PER_DAY:
        return None
    chosen = await preferences.set_delivery_mode(
        session, chat_id=whose.chat_id, mode=DeliveryMode.DAILY, hour=hour
    )
    return chosen, DAILY_SET.format(time=view.digest_time(hour))


async def _weekly(
    session: AsyncSession, whose: Whose, value: int
) -> tuple[ChatPreferences, str] | None:
    if value >= WEEK_HOURS:
        return None
    weekday, hour = divmod(value, HOURS_PER_DAY)
    chosen = await preferences.set_delivery_mode(
        session, chat_id=whose.chat_id, mode=DeliveryMode.WEEKLY, hour=hour, weekday=weekday
    )
    return chosen, WEEKLY_SET.format(day=WEEKDAYS[weekday], time=view.digest_time(hour))


async def _quiet_off(
    session: AsyncSession, whose: Whose, _value: int
) -> tuple[ChatPreferences, str]:
    chosen = await preferences.set_quiet_hours(
        session, chat_id=whose.chat_id, start=None, end=None
    )
    return chosen, QUIET_OFF_SET


async def _quiet_range(
    session: AsyncSession, whose: Whose, index: int
) -> tuple[ChatPreferences, str] | None:
    if index >= len(QUIET_RANGES):
        return None
    start, end = QUIET_RANGES[index]
    chosen = await preferences.set_quiet_hours(
        session, chat_id=whose.chat_id, start=start, end=end
    )
    return chosen, QUIET_RANGE_SET.format(quiet=quiet_range(start, end))


async def _bot_zone(
    session: AsyncSession, whose: Whose, _value: int
) -> tuple[ChatPreferences, str]:
    chosen = await preferences.set_timezone(session, chat_id=whose.chat_id, timezone=None)
    return chosen, BOT_ZONE_SET.format(zone=whose.audience.bot_zone)


async def _zone(
    session: AsyncSession, whose: Whose, index: int
) -> tuple[ChatPreferences, str] | None:
    if index >= len(COMMON_ZONES):
        return None
    zone = COMMON_ZONES[index]
    chosen = await preferences.set_timezone(session, chat_id=whose.chat_id, timezone=zone)
    return chosen, ZONE_PICKED.format(zone=zone)


_CHANGES: dict[SettingsAction, _Change] = {
    SettingsAction.ALL_SECTIONS: _all_sections,
    SettingsAction.INSTANT: _instant,
    SettingsAction.DAILY: _daily,
    SettingsAction.WEEKLY: _weekly,
    SettingsAction.QUIET_OFF: _quiet_off,
    SettingsAction.QUIET_RANGE: _quiet_range,
    SettingsAction.BOT_ZONE: _bot_zone,
    SettingsAction.ZONE: _zone,
}


async def _toggle_section(
    session: AsyncSession, context: BotContext, whose: Whose, chosen: ChatPreferences, key: int
) -> _Outcome | None:
    """Follow the section, or stop following it; the last one dropped means every section."""
    offered = await _offered(session, context, chosen)
    if (section := section_with_key(key, offered)) is None:
        return None
    followed = set(chosen.sections)
    if section in followed:
        followed.discard(section)
        toast = (SECTION_DROPPED if followed else SECTION_LAST_DROPPED).format(section=section)
    else:
        followed.add(section)
        toast = SECTION_FOLLOWED.format(section=section)
    chosen = await preferences.set_sections(session, chat_id=whose.chat_id, sections=followed)
    screen = view.render(SettingsAction.TOGGLE_SECTION, chosen, whose.audience, sections=offered)
    return _Outcome(echo(toast, 200), screen)


async def timezone(update: Update, context: BotContext) -> None:
    """/timezone [@channel] [Zone/Name | default]: show or set the zone digests and quiet
    hours follow."""
    if (message := update.effective_message) is None:
        return
    if (whose := await command_audience(update, context)) is None:
        return
    label, bot_zone = whose.audience.label, whose.audience.bot_zone
    async with context.services.db.transaction() as session:
        chosen = await preferences.chat_preferences(session, chat_id=whose.chat_id)
        if chosen is None:
            return
        if not whose.args:
            reply = ZONE_NOW.format(label=label, zone=view.zone_summary(chosen, bot_zone))
        elif (wanted := " ".join(whose.args)).casefold() in BOT_ZONE_WORDS:
            chosen = await preferences.set_timezone(session, chat_id=whose.chat_id, timezone=None)
            reply = ZONE_SET.format(label=label, zone=view.zone_summary(chosen, bot_zone))
        elif (zone := find_zone(wanted)) is None:
            reply = ZONE_UNKNOWN.format(name=echo(wanted, 64))
        else:
            await preferences.set_timezone(session, chat_id=whose.chat_id, timezone=zone)
            reply = ZONE_SET.format(label=label, zone=zone)
    await message.reply_text(reply)


async def quiet(update: Update, context: BotContext) -> None:
    """/quiet [@channel] [22:30-07:00 | off]: show, set or end the chat's quiet hours."""
    if (message := update.effective_message) is None:
        return
    if (whose := await command_audience(update, context)) is None:
        return
    label = whose.audience.label
    async with context.services.db.transaction() as session:
        chosen = await preferences.chat_preferences(session, chat_id=whose.chat_id)
        if chosen is None:
            return
        wanted = " ".join(whose.args)
        span = parse_quiet(wanted)
        if not whose.args:
            reply = QUIET_NOW.format(label=label, quiet=view.quiet_summary(chosen))
        elif wanted.casefold() in QUIET_OFF_WORDS:
            await preferences.set_quiet_hours(session, chat_id=whose.chat_id, start=None, end=None)
            reply = QUIET_CLEARED.format(label=label)
        elif span is None:
            reply = QUIET_BAD.format(text=echo(wanted, 40))
        elif span.start == span.end:
            reply = QUIET_EMPTY
        else:
            await preferences.set_quiet_hours(
                session, chat_id=whose.chat_id, start=span.start, end=span.end
            )
            zone = chosen.timezone or whose.audience.bot_zone
            reply = QUIET_SET.format(
                label=label, quiet=quiet_range(span.start, span.end), zone=zone
            )
    await message.reply_text(reply)
