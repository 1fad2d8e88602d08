"""Quiet hours through the emulator: a card or broadcast for a reader inside their quiet hours is
held in the ledger and sent when they end; `/broadcast --urgent` goes out at once and says so in
its preview. The emulator's manual clock (which the bot reads) is moved to the readers' nights.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from clock_support import (
    bot_on_emulator_clock,
    emulator_on_manual_clock,
    emulator_time,
    minutes,
    move_clock_to,
    next_local,
    publish_to_subscribers,
    reader_with_choices,
    services,
)
from harness import RunningBot, quicken_private_chats, wait_until
from sqlmodel import col, select

from bot.broadcasts.handlers import QUIET_NOTE, URGENT_NOTE
from bot.delivery.local_time import quiet_hours_end
from emulator.simulation import Emulator, SimChat, SimMessage
from storage.models import Delivery, DeliveryStatus
from storage.quiet_hours import QUIET_HOURS

BERLIN = "Europe/Berlin"
NIGHT = (minutes("22:00"), minutes("07:00"))


@pytest.fixture(name="emulator")
async def emulator_fixture() -> AsyncIterator[Emulator]:
    """The emulator on a manual clock that runs from now and jumps when the test moves it."""
    async with emulator_on_manual_clock() as emulator:
        yield emulator


@pytest.fixture(name="running")
async def running_fixture(emulator: Emulator, database_url: str) -> AsyncIterator[RunningBot]:
    """The bot reading the time from the emulator's clock (its TIMEZONE is UTC); private chats
    paced quicker (these tests check when things arrive by the clock, not their pace)."""
    async with bot_on_emulator_clock(emulator, database_url) as running:
        quicken_private_chats(running)
        yield running


async def _row(running: RunningBot, chat_id: int) -> Delivery | None:
    async with running.db.transaction() as session:
        return (
            await session.exec(
                select(Delivery)
                .where(col(Delivery.chat_id) == chat_id)
                .order_by(col(Delivery.id).desc())
            )
        ).first()


async def _held(running: RunningBot, chat_id: int) -> Delivery | None:
    row = await _row(running, chat_id)
    return row if row is not None and row.failure == QUIET_HOURS else None


def _shows(emulator: Emulator, chat: SimChat, text: str) -> bool:
    return any(text in (message.text or "") for message in emulator.bot_messages(chat))


async def _wait_shows(emulator: Emulator, chat: SimChat, text: str) -> None:
    await emulator.wait_for(lambda: _shows(emulator, chat, text), timeout=10, what=repr(text))


def test_quiet_hours_end_across_midnight_and_within_a_day() -> None:
    """22:00-07:00 holds at 23:30 and 02:00 until 07:00 the next morning, not at 07:00 or 21:59;
    13:00-14:00 holds at 13:30 until 14:00; equal ends or none mean no quiet hours."""
    zone = ZoneInfo(BERLIN)

    def at(day: int, clock: str) -> datetime:
        hours, mins = clock.split(":")
        return datetime(2026, 12, day, int(hours), int(mins), tzinfo=zone).astimezone(UTC)

    seven = at(4, "07:00")
    assert quiet_hours_end(at(3, "23:30"), zone, *NIGHT) == seven
    assert quiet_hours_end(at(4, "02:00"), zone, *NIGHT) == seven
    assert quiet_hours_end(at(4, "07:00"), zone, *NIGHT) is None
    assert quiet_hours_end(at(3, "21:59"), zone, *NIGHT) is None
    lunch = (minutes("13:00"), minutes("14:00"))
    assert quiet_hours_end(at(3, "13:30"), zone, *lunch) == at(3, "14:00")
    assert quiet_hours_end(at(3, "14:00"), zone, *lunch) is None
    assert quiet_hours_end(at(3, "13:30"), zone, 600, 600) is None
    assert quiet_hours_end(at(3, "13:30"), zone, None, None) is None


async def test_a_card_is_held_through_the_night_and_sent_when_quiet_hours_end(
    emulator: Emulator, running: RunningBot
) -> None:
    """At 23:30 in Berlin a reader with quiet hours 22:00-07:00 gets no card: its ledger row
    waits, pending until 07:00 their time with no attempt counted, while a reader without
    quiet hours gets the card at once. At 07:00 the held card arrives, once."""
    bea, bea_chat = await reader_with_choices(running, "Bea", timezone=BERLIN, quiet=NIGHT)
    _, ivo_chat = await reader_with_choices(running, "Ivo", timezone=BERLIN)
    night = next_local(emulator_time(emulator)(), BERLIN, 23, minute=30)
    morning = next_local(night, BERLIN, 7)
    move_clock_to(emulator, night)

    await publish_to_subscribers(running, "Harbour reopens after the storm")

    await _wait_shows(emulator, ivo_chat, "Harbour reopens after the storm")
    held = await wait_until(lambda: _held(running, bea.id), what="the held card")
    assert (held.status, held.not_before, held.attempts) == (DeliveryStatus.PENDING, morning, 0)
    assert emulator.bot_messages(bea_chat) == []

    move_clock_to(emulator, morning + timedelta(seconds=1))
    services(running).wake_delivery()

    await _wait_shows(emulator, bea_chat, "Harbour reopens after the storm")
    sent = await wait_until(
        lambda: _sent_row(running, bea.id), what="the held card recorded as sent"
    )
    assert (sent.failure, sent.attempts) == (None, 1)
    assert len(emulator.bot_messages(bea_chat)) == 1


async def _sent_row(running: RunningBot, chat_id: int) -> Delivery | None:
    row = await _row(running, chat_id)
    return row if row is not None and row.status is DeliveryStatus.SENT else None


async def _preview(running: RunningBot, command: str) -> SimMessage:
    """The admin sends a /broadcast; the question under its preview, with Send and Cancel."""
    emulator = running.emulator
    chat = emulator.private_chat(running.admin)
    sent = await emulator.send_message(running.admin, command)
    return await emulator.wait_for(
        lambda: next(
            (
                m
                for m in emulator.bot_messages(chat)
                if m.message_id > sent.message_id and "send the message above" in (m.text or "")
            ),
            None,
        ),
        timeout=10,
        what="the broadcast question",
    )


async def test_an_urgent_broadcast_passes_quiet_hours_and_its_preview_says_so(
    emulator: Emulator, running: RunningBot
) -> None:
    """`/broadcast --urgent` previews with the urgent note and, once sent, reaches a reader at
    02:00 inside their quiet hours at once; a plain broadcast previews with the quiet-hours
    note, is held for that reader (the progress says so) and reaches them at 07:00."""
    emulator.private_chat(running.admin).started = True
    bea, bea_chat = await reader_with_choices(running, "Bea", timezone=BERLIN, quiet=NIGHT)
    _, ivo_chat = await reader_with_choices(running, "Ivo", timezone=BERLIN)
    night = next_local(emulator_time(emulator)(), BERLIN, 2)
    morning = next_local(night, BERLIN, 7)
    move_clock_to(emulator, night)

    urgent = await _preview(running, "/broadcast --urgent Storm warning: stay indoors")
    assert URGENT_NOTE in (urgent.text or "")
    await emulator.press_button(running.admin, urgent, text="Send")
    await _wait_shows(emulator, bea_chat, "Storm warning: stay indoors")
    await _wait_shows(emulator, ivo_chat, "Storm warning: stay indoors")

    plain = await _preview(running, "/broadcast Night buses run again")
    assert QUIET_NOTE in (plain.text or "")
    assert URGENT_NOTE not in (plain.text or "")
    await emulator.press_button(running.admin, plain, text="Send")
    await _wait_shows(emulator, ivo_chat, "Night buses run again")
    held = await wait_until(lambda: _held(running, bea.id), what="the held broadcast")
    assert held.not_before == morning
    admin_chat = emulator.private_chat(running.admin)
    await _wait_shows(emulator, admin_chat, "(1 held for quiet hours)")
    assert not _shows(emulator, bea_chat, "Night buses run again")

    move_clock_to(emulator, morning + timedelta(seconds=1))
    services(running).wake_delivery()

    await _wait_shows(emulator, bea_chat, "Night buses run again")
    await _wait_shows(emulator, admin_chat, "finished")
    texts = [message.text for message in emulator.bot_messages(bea_chat)]
    assert texts == ["Storm warning: stay indoors", "Night buses run again"]
