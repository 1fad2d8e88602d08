"""/timezone and /quiet through the emulator, good input and bad, and the menus and /help that
offer them with /settings."""

from __future__ import annotations

import pytest
from harness import RunningBot
from polls_support import started_private_chat
from preferences_support import stored

from bot.chats.subscription import SUBSCRIBED
from bot.preferences.handlers import (
    QUIET_BAD,
    QUIET_CLEARED,
    QUIET_EMPTY,
    QUIET_NOW,
    QUIET_SET,
    ZONE_NOW,
    ZONE_SET,
    ZONE_UNKNOWN,
)
from emulator.simulation import Emulator
from emulator.state import User
from storage import preferences
from storage.models import DeliveryMode

DASH = "\u2013"  # quiet ranges are shown with an en dash
# Each test is a conversation in private chats, about what it says and stores, not its pace.
pytestmark = pytest.mark.quick_private_chats


async def _answer(emu: Emulator, user: User, text: str) -> str:
    sent = await emu.send_message(user, text)
    reply = await emu.wait_for_bot_message(emu.private_chat(user), after=sent.message_id)
    return reply.text or ""


async def test_timezone_takes_any_iana_zone_and_refuses_others(running_bot: RunningBot) -> None:
    """/timezone stores a zone however it is cased, says so, refuses an unknown name in one
    line keeping the zone it had, and goes back to the bot's own with "default"."""
    emu = running_bot.emulator
    reader = emu.create_user("Tom")
    started_private_chat(emu, reader)
    label = "this chat"

    assert await _answer(emu, reader, "/timezone") == ZONE_NOW.format(
        label=label, zone="UTC (the bot's default)"
    )
    assert await _answer(emu, reader, "/timezone america/argentina/buenos_aires") == (
        ZONE_SET.format(label=label, zone="America/Argentina/Buenos_Aires")
    )
    assert (await stored(running_bot, reader.id)).timezone == "America/Argentina/Buenos_Aires"

    for bad in ("Mars/Olympus", "../../etc/passwd", "Europe/Berlin; DROP TABLE chats"):
        reply = await _answer(emu, reader, f"/timezone {bad}")
        assert reply == ZONE_UNKNOWN.format(name=bad)
    assert (await stored(running_bot, reader.id)).timezone == "America/Argentina/Buenos_Aires"

    assert await _answer(emu, reader, "/timezone default") == ZONE_SET.format(
        label=label, zone="UTC (the bot's default)"
    )
    assert (await stored(running_bot, reader.id)).timezone is None


async def test_quiet_takes_any_range_and_refuses_what_is_none(running_bot: RunningBot) -> None:
    """/quiet 22:30-07:00 stores the range (across midnight); a time that does not exist or an
    empty range get one line each and change nothing; /quiet off ends quiet hours."""
    emu = running_bot.emulator
    reader = emu.create_user("Ana")
    started_private_chat(emu, reader)
    label = "this chat"

    assert await _answer(emu, reader, "/quiet") == QUIET_NOW.format(label=label, quiet="off")
    assert await _answer(emu, reader, "/quiet 22:30-07:00") == QUIET_SET.format(
        label=label, quiet=f"22:30{DASH}07:00", zone="UTC"
    )
    chosen = await stored(running_bot, reader.id)
    assert (chosen.quiet_from, chosen.quiet_until) == (22 * 60 + 30, 7 * 60)

    for bad in ("25:00-07:00", "22:60-07:00", "tonight", "22:00"):
        assert await _answer(emu, reader, f"/quiet {bad}") == QUIET_BAD.format(text=bad)
    assert await _answer(emu, reader, "/quiet 07:00-07:00") == QUIET_EMPTY
    chosen = await stored(running_bot, reader.id)
    assert (chosen.quiet_from, chosen.quiet_until) == (22 * 60 + 30, 7 * 60)

    assert await _answer(emu, reader, "/quiet off") == QUIET_CLEARED.format(label=label)
    assert not (await stored(running_bot, reader.id)).has_quiet_hours


async def test_quiet_hours_are_told_in_the_chats_own_zone(running_bot: RunningBot) -> None:
    """A reader with their own zone is told their quiet hours in it."""
    emu = running_bot.emulator
    reader = emu.create_user("Ines")
    started_private_chat(emu, reader)
    await _answer(emu, reader, "/timezone Europe/Lisbon")
    assert await _answer(emu, reader, "/quiet 23-6") == QUIET_SET.format(
        label="this chat", quiet=f"23:00{DASH}06:00", zone="Europe/Lisbon"
    )


async def test_menus_and_help_offer_settings_timezone_and_quiet(running_bot: RunningBot) -> None:
    """The readers' command menu and /help name /settings, /timezone and /quiet."""
    emu = running_bot.emulator
    requests = await emu.wait_for(
        lambda: [r for r in emu.requests("setMyCommands") if "default" in str(r.params)]
    )
    menu = str(requests[0].params["commands"])
    reader = emu.create_user("Ola")
    started_private_chat(emu, reader)
    help_text = await _answer(emu, reader, "/help")
    for command in ("settings", "timezone", "quiet"):
        assert f"'{command}'" in menu or f'"{command}"' in menu
        assert f"/{command}" in help_text


async def test_stats_counts_readers_per_delivery_mode_and_section(
    running_bot: RunningBot,
) -> None:
    """/stats says how many subscribed chats take each delivery mode and follow each section."""
    emu = running_bot.emulator
    readers = [emu.create_user(name) for name in ("Ada2", "Bea", "Cy")]
    for reader in readers:
        started_private_chat(emu, reader)
        assert await _answer(emu, reader, "/subscribe") == SUBSCRIBED
    async with running_bot.db.transaction() as session:
        await preferences.set_sections(session, chat_id=readers[0].id, sections=["Sport"])
        await preferences.set_sections(
            session, chat_id=readers[1].id, sections=["sport", "World News"]
        )
        await preferences.set_delivery_mode(
            session, chat_id=readers[1].id, mode=DeliveryMode.DAILY, hour=7
        )
    admin = running_bot.admin
    started_private_chat(emu, admin)
    sent = await emu.send_message(admin, "/stats")
    reply = await emu.wait_for_bot_message(emu.private_chat(admin), after=sent.message_id)
    lines = (reply.text or "").splitlines()
    assert "Readers by delivery: instant 2, daily 1, weekly 0" in lines
    assert "Readers by section: all sections 1; sport 2; world news 1" in lines
