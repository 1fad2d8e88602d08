"""The periodic baseline bot does what the benchmark says it does: a tap is stored, answered and
its own copy edited at once; the other copies follow on the job's next round; its broadcast
waits out flood control and reaches everyone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlmodel import select

from benchmarks.baseline.periodic_bot import (
    PeriodicApplication,
    PeriodicVote,
    add_subscribers,
    broadcast,
    build_periodic_application,
    create_tables,
    post_poll,
)
from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimChat, SimMessage
from storage.engine import Database

TOKEN = "123456789:periodic-baseline-test-token"
POLL_ID = 1


@pytest.fixture(name="db")
async def db_fixture(tmp_path: Path) -> AsyncIterator[Database]:
    """The periodic bot's own SQLite file, its tables created."""
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'periodic.db'}")
    await create_tables(db)
    yield db
    await db.dispose()


@asynccontextmanager
async def polling(application: PeriodicApplication) -> AsyncIterator[None]:
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(timeout=1)
    await application.start()
    try:
        yield
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


def buttons(message: SimMessage) -> list[str]:
    return [str(button.get("text")) for row in message.buttons for button in row]


async def two_copies(
    emulator: Emulator, application: PeriodicApplication, db: Database
) -> tuple[SimMessage, SimMessage]:
    """The poll posted in a group (the copy readers tap) and in a reader's private chat (where
    Telegram allows a few edits a second only)."""
    reader = emulator.create_user("Rita")
    private = emulator.private_chat(reader)
    private.started = True
    owner = emulator.create_user("Owen")
    group = emulator.create_group("Readers' club", creator=owner)
    await emulator.add_bot_to_chat(group, by=owner)
    chats: list[SimChat] = [private, group]
    ids = await post_poll(application.bot, db, POLL_ID, [chat.id for chat in chats])
    return group.messages[ids[1]], private.messages[ids[0]]


async def test_a_tap_is_stored_answered_and_its_copy_edited(
    emulator: Emulator, db: Database
) -> None:
    """A reader's tap is stored, answered, and shown on the tapped copy; tapping again takes the
    vote back, another option changes it; the other copy waits for the job (an hour here)."""
    emulator.add_bot(TOKEN, username="periodic_bot")
    application = build_periodic_application(TOKEN, emulator.base_url, db, period=3600)
    async with polling(application):
        tapped, other = await two_copies(emulator, application, db)
        reader = emulator.create_user("Vera")

        answer = await emulator.press_button(reader, tapped, data=f"vote:{POLL_ID}:0")
        assert answer.text == "You voted: Yes"
        await emulator.wait_for(lambda: "Yes (1)" in buttons(tapped))
        async with db.transaction() as session:
            stored = (await session.exec(select(PeriodicVote))).all()
        assert [(v.poll_id, v.user_id, v.option) for v in stored] == [(POLL_ID, reader.id, 0)]

        changed = await emulator.press_button(reader, tapped, data=f"vote:{POLL_ID}:1")
        assert changed.text == "Vote changed to No"
        await emulator.wait_for(lambda: buttons(tapped) == ["Yes (0)", "No (1)", "Not sure (0)"])
        removed = await emulator.press_button(reader, tapped, data=f"vote:{POLL_ID}:1")
        assert removed.text == "Vote removed"
        await emulator.wait_for(lambda: buttons(tapped) == ["Yes (0)", "No (0)", "Not sure (0)"])

        edited = {request.params["chat_id"] for request in emulator.requests("editMessageText")}
        assert edited == {tapped.chat.id if tapped.chat is not None else None}
        assert buttons(other) == ["Yes (0)", "No (0)", "Not sure (0)"]


async def test_other_copies_follow_on_the_next_round(emulator: Emulator, db: Database) -> None:
    """A copy nobody tapped shows the new totals once the refresh job has run."""
    emulator.add_bot(TOKEN, username="periodic_bot")
    application = build_periodic_application(TOKEN, emulator.base_url, db, period=0.2)
    async with polling(application):
        tapped, other = await two_copies(emulator, application, db)
        reader = emulator.create_user("Vera")

        await emulator.press_button(reader, tapped, data=f"vote:{POLL_ID}:2")

        totals = ["Yes (0)", "No (0)", "Not sure (1)"]
        await emulator.wait_for(lambda: buttons(other) == totals == buttons(tapped))


async def test_a_forged_button_is_refused_politely(emulator: Emulator, db: Database) -> None:
    """Callback data naming an option the poll does not have is answered, and nothing stored."""
    emulator.add_bot(TOKEN, username="periodic_bot")
    application = build_periodic_application(TOKEN, emulator.base_url, db, period=3600)
    async with polling(application):
        tapped, _ = await two_copies(emulator, application, db)
        forged = dict(tapped.buttons[0][0]) | {"callback_data": f"vote:{POLL_ID}:7"}
        tapped.buttons[0][0] = forged

        answer = await emulator.press_button(
            emulator.create_user("Mallory"), tapped, data=f"vote:{POLL_ID}:7"
        )

        assert answer.text == "This button is no longer valid."
        async with db.transaction() as session:
            assert (await session.exec(select(PeriodicVote))).all() == []


async def test_broadcast_waits_out_flood_control_and_reaches_everyone(
    emulator: Emulator, db: Database
) -> None:
    """Sent faster than Telegram allows, the loop is told to wait, waits, and sends that
    chat's message again: every subscriber gets it once."""
    emulator.add_bot(TOKEN, username="periodic_bot")
    readers = [emulator.create_user(f"Reader {n}") for n in range(6)]
    for reader in readers:
        emulator.private_chat(reader).started = True
    await add_subscribers(db, [reader.id for reader in readers])
    emulator.limits = RateLimits(bot_per_second=3.0)
    # AIORateLimiter's rates lifted, so Telegram's 429 is what paces the loop.
    application = build_periodic_application(TOKEN, emulator.base_url, db, limited=False)
    async with application:
        report = await broadcast(application.bot, db, "Road closures tonight")

    assert (report.sent, report.failed) == (6, 0)
    assert report.retry_after_seen >= 1
    for reader in readers:
        texts = [m.text for m in emulator.bot_messages(emulator.private_chat(reader))]
        assert texts == ["Road closures tonight"]
