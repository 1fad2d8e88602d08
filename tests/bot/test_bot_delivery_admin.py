"""Admin commands of delivery through the emulator: /broadcast, /cancel, /queue, /stats and
`/publish ... at`."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from delivery_world import copies_per_chat, rows_left, subscribe_group, subscribe_readers
from harness import RunningBot, wait_until
from polls_support import StartBot
from sqlmodel import col, select

from bot.admins import ADMIN_ONLY
from bot.broadcasts.handlers import NOTHING_RUNNING
from bot.schedule.handlers import NOTHING_SCHEDULED
from emulator.simulation import SimMessage
from storage import schedule
from storage.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, ScheduledKind
from storage.types import utcnow


async def _reply(
    running_bot: RunningBot, text: str, *, reply_to: SimMessage | None = None
) -> SimMessage:
    emu, admin = running_bot.emulator, running_bot.admin
    chat = emu.private_chat(admin)
    sent = await emu.send_message(admin, text, reply_to=reply_to)
    # /stats draws a chart first: on a busy machine that takes seconds.
    return await emu.wait_for_bot_message(chat, after=sent.message_id, timeout=15)


async def _last_bot_message(running_bot: RunningBot, after: int, contains: str) -> SimMessage:
    emu = running_bot.emulator
    chat = emu.private_chat(running_bot.admin)
    return await emu.wait_for(
        lambda: next(
            (
                m
                for m in reversed(emu.bot_messages(chat))
                if m.message_id > after and contains in (m.text or "")
            ),
            None,
        ),
        timeout=20,
        what=f"a bot message containing {contains!r}",
    )


async def _preview(
    running_bot: RunningBot, text: str, *, reply_to: SimMessage | None = None
) -> SimMessage:
    """Sends a /broadcast and returns the question with the Send and Cancel buttons."""
    sent = await running_bot.emulator.send_message(running_bot.admin, text, reply_to=reply_to)
    return await _last_bot_message(running_bot, sent.message_id, "Broadcast #")


@pytest.mark.quick_private_chats
async def test_non_admin_is_refused(running_bot: RunningBot) -> None:
    """Someone not in ADMIN_IDS gets the admins-only answer for every delivery command."""
    emu = running_bot.emulator
    stranger = emu.create_user("Eve")
    chat = emu.private_chat(stranger)
    last = 0
    for command in (
        "/broadcast hi",
        "/cancel",
        "/stats",
        "/queue",
        "/publish https://x.example/a at 23:59",
    ):
        await emu.send_message(stranger, command)
        reply = await emu.wait_for_bot_message(chat, after=last)
        last = reply.message_id
        assert reply.text == ADMIN_ONLY


@pytest.mark.quick_private_chats
async def test_buttons_pressed_after_leaving_admin_ids_are_refused(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    """An editor taken off ADMIN_IDS presses Send under a broadcast preview and Cancel in /queue,
    both shown while they were an admin: each tap gets the admins-only answer and is logged, and
    nothing is sent or cancelled."""
    async with start_bot() as running:
        emu, editor = running.emulator, running.admin
        readers = await subscribe_readers(emu, running.db, 2)
        summary = await _preview(running, "/broadcast Staff only")
        await _reply(running, "/publish https://news.example/story at 2099-01-01 10:00")
        listing = await _reply(running, "/queue")
    caplog.set_level(logging.WARNING, logger="bot.admins")
    async with start_bot(admin_ids=frozenset()) as running:
        send = await emu.press_button(editor, summary, text="Send")
        cancel = await emu.press_button(editor, listing, text=listing.buttons[0][0]["text"])
        async with running.db.transaction() as session:
            pending = await schedule.pending_actions(session)
            statuses = (await session.exec(select(col(Broadcast.status)))).all()
            deliveries = (await session.exec(select(col(Delivery.id)))).all()

    assert (send.text, cancel.text) == (ADMIN_ONLY, ADMIN_ONLY)
    assert [action.kind for action in pending] == [ScheduledKind.PUBLISH]
    assert (statuses, deliveries) == ([BroadcastStatus.DRAFT], [])
    assert copies_per_chat(emu, readers, "Staff only") == {0: 2}
    refusals = [
        r for r in caplog.records if r.name == "bot.admins" and str(editor.id) in r.getMessage()
    ]
    assert len(refusals) == 2


@pytest.mark.quick_private_chats
async def test_broadcast_preview_send_progress_and_report(running_bot: RunningBot) -> None:
    """/broadcast --private shows a preview; Send delivers it once to each private reader,
    not to groups, and the progress message ends as the final report."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 5)
    group = await subscribe_group(emu, running_bot.db, readers[0], "Club")
    summary = await _preview(running_bot, "/broadcast --private Polls open at 8pm")
    preview = emu.bot_messages(emu.private_chat(running_bot.admin))[-2]
    assert preview.text == "Polls open at 8pm"
    assert "to 5 chats (private) now?" in (summary.text or "")
    await emu.press_button(running_bot.admin, summary, text="Send")
    report = await _last_bot_message(running_bot, summary.message_id, "finished")
    assert "Sent: 5" in (report.text or "")
    assert copies_per_chat(emu, readers, "Polls open at 8pm") == {1: 5}
    assert not any(m.text == "Polls open at 8pm" for m in emu.bot_messages(group))


@pytest.mark.quick_private_chats
async def test_broadcast_as_reply_copies_the_message(running_bot: RunningBot) -> None:
    """/broadcast as a reply copies the replied message to every reader."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 3)
    original = await emu.send_message(running_bot.admin, "Our new podcast is out")
    summary = await _preview(running_bot, "/broadcast", reply_to=original)
    await emu.press_button(running_bot.admin, summary, text="Send")
    await _last_bot_message(running_bot, summary.message_id, "finished")
    assert copies_per_chat(emu, readers, "Our new podcast is out") == {1: 3}


@pytest.mark.quick_private_chats
async def test_cancel_button_sends_nothing(running_bot: RunningBot) -> None:
    """Cancel under the preview drops the broadcast: no reader gets it."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 3)
    summary = await _preview(running_bot, "/broadcast Never mind")
    answer = await emu.press_button(running_bot.admin, summary, text="Cancel")
    assert answer.text == "Cancelled."
    assert copies_per_chat(emu, readers, "Never mind") == {0: 3}
    assert await rows_left(running_bot.db) == 0


async def test_cancel_stops_a_running_broadcast(running_bot: RunningBot) -> None:
    """/cancel mid-broadcast: pending deliveries are cancelled, those sent stay sent, nobody
    gets it twice, and the report says cancelled."""
    emu = running_bot.emulator
    assert (await _reply(running_bot, "/cancel")).text == NOTHING_RUNNING
    readers = await subscribe_readers(emu, running_bot.db, 150)
    summary = await _preview(running_bot, "/broadcast Long read")
    await emu.press_button(running_bot.admin, summary, text="Send")
    await emu.wait_for(lambda: copies_per_chat(emu, readers, "Long read")[1] >= 10, timeout=10)
    sent = await emu.send_message(running_bot.admin, "/cancel")
    await _last_bot_message(running_bot, sent.message_id, "cancelled:")
    report = await _last_bot_message(running_bot, summary.message_id, "cancelled after")
    copies = copies_per_chat(emu, readers, "Long read")
    assert set(copies) <= {0, 1}
    assert 0 < copies[1] < 150
    assert f"Sent: {copies[1]}" in (report.text or "")
    async with running_bot.db.transaction() as session:
        statuses = (await session.exec(select(col(Delivery.status)))).all()
    assert set(statuses) <= {DeliveryStatus.SENT, DeliveryStatus.CANCELLED}


@pytest.mark.quick_private_chats
async def test_scheduled_broadcast_is_listed_and_cancelled(running_bot: RunningBot) -> None:
    """/broadcast at a later time is scheduled on Send; /queue lists it; its Cancel removes it."""
    emu = running_bot.emulator
    summary = await _preview(running_bot, "/broadcast --groups at 2099-12-01 09:00 Happy new year")
    assert "at 2099-12-01 09:00 (UTC)?" in (summary.text or "")
    await emu.press_button(running_bot.admin, summary, text="Send")
    listing = await _reply(running_bot, "/queue")
    assert "2099-12-01 09:00 (UTC) · broadcast #" in (listing.text or "")
    await emu.press_button(running_bot.admin, listing, text=listing.buttons[0][0]["text"])
    await emu.wait_for(lambda: listing.text == NOTHING_SCHEDULED, timeout=5)
    assert (await _reply(running_bot, "/queue")).text == NOTHING_SCHEDULED


@pytest.mark.quick_private_chats
async def test_publish_at_past_time_is_refused_and_future_is_scheduled(
    running_bot: RunningBot,
) -> None:
    """`/publish <url> at` a past time gets a clear error; a future one is queued."""
    past = await _reply(running_bot, "/publish https://news.example/story at 2020-01-01 10:00")
    assert "has already passed" in (past.text or "")
    later = await _reply(running_bot, "/publish https://news.example/story at 2099-01-01 10:00")
    assert "will be published at 2099-01-01 10:00 (UTC)" in (later.text or "")
    async with running_bot.db.transaction() as session:
        pending = await schedule.pending_actions(session)
    assert [(a.kind, a.url) for a in pending] == [
        (ScheduledKind.PUBLISH, "https://news.example/story")
    ]


@pytest.mark.quick_private_chats
async def test_due_scheduled_broadcast_runs(running_bot: RunningBot) -> None:
    """A scheduled broadcast whose time has come is sent by the scheduler."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 4)
    summary = await _preview(running_bot, "/broadcast at 2099-01-01 10:00 Time has come")
    await emu.press_button(running_bot.admin, summary, text="Send")
    async with running_bot.db.transaction() as session:
        (action,) = await schedule.pending_actions(session)
        action.due_at = utcnow() - timedelta(seconds=1)
        session.add(action)
    running_bot.application.bot_data.scheduler.wake()

    async def all_sent() -> bool:
        return copies_per_chat(emu, readers, "Time has come") == {1: 4}

    await wait_until(all_sent, timeout=15, what="the scheduled broadcast")


@pytest.mark.quick_private_chats
async def test_stats_counts_subscribers_and_deliveries(running_bot: RunningBot) -> None:
    """/stats shows subscribers by kind and deliveries by status."""
    await subscribe_readers(running_bot.emulator, running_bot.db, 2)
    reply = await _reply(running_bot, "/stats")
    text = reply.text or ""
    assert "private: 2 / 0" in text
    assert "Articles published: 0" in text
    assert "Votes today: 0" in text
