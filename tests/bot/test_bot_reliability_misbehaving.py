"""A Bot API server that misbehaves: cosmetic calls failing at start, answers the client cannot
read, getUpdates that never waits, update ids starting over, a start that fails. Nothing
cosmetic is fatal, nothing is retried for ever, and nothing real is lost."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bot_articles_support import FeedEntry, run_bot, serve_news_site
from delivery_world import copies_per_chat, subscribe_readers
from harness import BOT_TOKEN, RunningBot, run_bot_command, wait_until
from polls_support import (
    StartBot,
    create_article_poll,
    expected_content,
    post_poll_card,
    shows,
    started_private_chat,
)
from sqlmodel import col, select

from bot.articles.feeds import ITEM_RETRIES
from bot.polls.live_totals import EDIT_TRIES
from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import Emulator, SimMessage
from storage import broadcasts, feeds
from storage.models import Vote


async def _welcome(emu: Emulator, name: str) -> SimMessage:
    reader = emu.create_user(name)
    await emu.send_message(reader, "/start")
    return await emu.wait_for_bot_message(emu.private_chat(reader), timeout=10)


async def _voters(running_bot: RunningBot, poll_id: int) -> list[int]:
    async with running_bot.db.transaction() as session:
        voters = await session.exec(select(col(Vote.user_id)).where(col(Vote.poll_id) == poll_id))
        return sorted(voters.all())


async def test_menus_answered_500_at_start_are_retried_and_the_bot_runs(
    emulator: Emulator, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    """setMyCommands answering 500 at start: the bot starts and answers /start; the menus are
    set in the background afterwards, and the failure is one warning per menu."""
    emulator.inject_faults(500, methods={"setMyCommands"}, count=2)
    with caplog.at_level(logging.INFO):
        async with start_bot() as bot:
            reply = await _welcome(emulator, "Mia")
            assert "Welcome!" in (reply.text or "")
            await emulator.wait_for(
                lambda: [r.status for r in emulator.requests("setMyCommands")].count(200) == 2,
                timeout=20,
                what="both menus set after the 500s",
            )
    assert [r.status for r in emulator.requests("setMyCommands")][:2] == [500, 500]
    retried = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert sorted(retried) == sorted(
        [
            "reader menu not set (Internal Server Error); trying again in the background",
            f"admin menu for {bot.admin.id} not set (Internal Server Error);"
            " trying again in the background",
        ]
    )


async def test_send_tap_answered_once_when_the_edit_after_it_fails(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The broadcast's Send tap is answered, then its edit gets `"result": null`: the error
    handler does not answer the tap a second time, and the broadcast still goes out."""
    emu, admin = running_bot.emulator, running_bot.admin
    [reader] = await subscribe_readers(emu, running_bot.db, 1)
    sent = await emu.send_message(admin, "/broadcast Roads reopen at noon")
    summary = await emu.wait_for(
        lambda: next(
            (
                m
                for m in emu.bot_messages(emu.private_chat(admin))
                if m.message_id > sent.message_id and "Broadcast #" in (m.text or "")
            ),
            None,
        ),
        timeout=10,
    )
    emu.inject_faults("result", methods={"editMessageText"}, count=1)

    def answers() -> list[str]:
        return [str(r.params["callback_query_id"]) for r in emu.requests("answerCallbackQuery")]

    async def error_handler_done() -> bool:
        kept_back = any("answered before it failed" in r.getMessage() for r in caplog.records)
        return kept_back or len(answers()) > 1

    with caplog.at_level(logging.DEBUG, logger="bot.runtime.error_handler"):
        answer = await emu.press_button(admin, summary, text="Send")
        await wait_until(error_handler_done, timeout=10, what="the error handler to finish")
    assert answer.text
    assert len(answers()) == 1
    await emu.wait_for(
        lambda: any(
            m.text == "Roads reopen at noon" for m in emu.bot_messages(emu.private_chat(reader))
        ),
        timeout=20,
    )


async def test_an_apology_that_fails_is_logged_and_never_raised(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """/start's reply and the apology after it both get `"result": null`: one warning, no
    "uncaught error while handling the error", and the next reader is welcomed as usual."""
    emu = running_bot.emulator
    emu.inject_faults("result", methods={"sendMessage"}, count=2)
    reader = emu.create_user("Oda")
    with caplog.at_level(logging.WARNING):
        await emu.send_message(reader, "/start")
        await emu.wait_for(lambda: emu.faults_injected == 2, timeout=10)
        reply = await _welcome(emu, "Pia")
    assert "Welcome!" in (reply.text or "")
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "uncaught error" in m.lower()]
    assert len([m for m in messages if m.startswith("could not apologise for update")]) == 1


async def test_edits_answered_null_are_bounded_then_a_later_vote_tries_again(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Every edit answered `"result": null`: each of three copies is tried EDIT_TRIES times with
    a growing wait and logged once, then given up; once edits work, the next vote fixes all."""
    async with start_bot(poll_edit_interval=0.5) as bot:
        emu = bot.emulator
        readers = [emu.create_user(f"Reader {n}") for n in range(4)]
        poll_id = await create_article_poll(bot.db)
        chats = [started_private_chat(emu, reader) for reader in readers[:3]]
        copies = [await post_poll_card(bot, chat, poll_id) for chat in chats]
        live_totals = bot.application.bot_data.live_totals
        emu.inject_faults("result", methods={"editMessageText"}, seconds=120)
        with caplog.at_level(logging.WARNING):
            await emu.press_button(readers[0], copies[0], data=encode(VoteTap(poll_id, 0)))

            def edits_per_copy() -> Counter[tuple[str, str]]:
                return Counter(
                    (str(r.params["chat_id"]), str(r.params["message_id"]))
                    for r in emu.requests("editMessageText")
                )

            await emu.wait_for(lambda: len(edits_per_copy()) == 3, timeout=10)

            async def given_up() -> bool:
                return live_totals.idle

            await wait_until(given_up, timeout=30, what="every copy's edits given up")
        assert edits_per_copy() == Counter(
            {
                (str(chat.id), str(copy.message_id)): EDIT_TRIES
                for chat, copy in zip(chats, copies, strict=True)
            }
        )
        warned = [r.getMessage() for r in caplog.records if "not edited" in r.getMessage()]
        assert len(warned) == 3

        emu.clear_faults()
        await emu.press_button(readers[3], copies[1], data=encode(VoteTap(poll_id, 1)))
        expected = await expected_content(bot.db, poll_id)
        await emu.wait_for(
            lambda: all(shows(copy, expected) for copy in copies),
            timeout=15,
            what="every copy showing both votes",
        )


async def test_broadcast_report_reaches_the_admin_when_edits_answer_null(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The progress message cannot be edited (`"result": null`): the failure is one warning,
    and the final report is posted as a new message instead of being lost."""
    emu, services = running_bot.emulator, running_bot.application.bot_data
    readers = await subscribe_readers(emu, running_bot.db, 2)
    await services.delivery.stop()
    async with running_bot.db.transaction() as session:
        draft = await broadcasts.create_broadcast(
            session, author_id=running_bot.admin.id, html="Ferry runs late"
        )
        assert draft.id is not None
        await broadcasts.start_broadcast(
            session, broadcast_id=draft.id, report_chat_id=running_bot.admin.id
        )
    admin_chat = started_private_chat(emu, running_bot.admin)
    await services.broadcast_monitor.tick()
    await emu.wait_for(
        lambda: any("is sending" in (m.text or "") for m in emu.bot_messages(admin_chat))
    )
    emu.inject_faults("result", methods={"editMessageText"}, seconds=120)
    with caplog.at_level(logging.WARNING, logger="bot.broadcasts.progress"):
        await services.delivery.start()
        services.wake_delivery()
        report = await emu.wait_for(
            lambda: next(
                (m for m in emu.bot_messages(admin_chat) if "finished" in (m.text or "")), None
            ),
            timeout=20,
            what="the final report",
        )
    assert "Sent: 2" in (report.text or "")
    assert copies_per_chat(emu, readers, "Ferry runs late") == {1: 2}
    warned = [r.getMessage() for r in caplog.records if "not edited" in r.getMessage()]
    assert len(warned) == 1


async def test_update_ids_starting_over_lose_nothing(running_bot: RunningBot) -> None:
    """The server restarts and numbers updates from the first id again: the /start and the two
    votes that reuse old ids are handled, not skipped as repeats."""
    emu = running_bot.emulator
    before, after, third = emu.create_user("Quin"), emu.create_user("Rae"), emu.create_user("Sam")
    poll_id = await create_article_poll(running_bot.db)
    card = await post_poll_card(running_bot, started_private_chat(emu, before), poll_id)
    await _welcome(emu, "Quill")
    await emu.press_button(before, card, data=encode(VoteTap(poll_id, 0)))
    await emu.press_button(before, card, data=encode(VoteTap(poll_id, 1)))
    old_ids = emu.update_ids()

    emu.restart_update_ids()
    await emu.send_message(after, "/start")
    reply = await emu.wait_for_bot_message(emu.private_chat(after), timeout=10)
    assert "Welcome!" in (reply.text or "")
    await emu.press_button(after, card, data=encode(VoteTap(poll_id, 0)))
    await emu.press_button(third, card, data=encode(VoteTap(poll_id, 1)))

    assert emu.update_ids()[len(old_ids) :] == old_ids
    assert await _voters(running_bot, poll_id) == sorted([before.id, after.id, third.id])
    assert running_bot.application.bot_data.updates_seen.skipped == 0


async def test_get_updates_answering_at_once_does_not_spin(running_bot: RunningBot) -> None:
    """getUpdates answering `[]` at once for a second and a half: the bot waits a moment,
    growing, between asks (a handful of calls, not hundreds), then handles what comes."""
    emu = running_bot.emulator
    plan = emu.inject_faults("result", methods={"getUpdates"}, seconds=1.5, result=[])
    await asyncio.sleep(1.5)
    assert 1 <= plan.answered <= 12
    reply = await _welcome(emu, "Tia")
    assert "Welcome!" in (reply.text or "")


async def test_a_feed_item_that_keeps_failing_is_tried_a_bounded_number_of_times(
    emulator: Emulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A new feed item whose page is not an article: read again at later polls, further apart,
    ITEM_RETRIES.tries times in all, then given up (recorded as seen) with a warning."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    caplog.set_level(logging.WARNING, logger="bot.articles.feeds")
    async with serve_news_site() as site:
        fresh = datetime.now(UTC) + timedelta(minutes=1)
        site.entries.append(FeedEntry("ledger-pdf", "The annual report", "/report.pdf", fresh))
        async with run_bot(
            emulator, account, admin, database_url, feeds=(site.url("/feed.xml"),)
        ) as bot:
            watcher = bot.application.bot_data.feeds
            reports = [await watcher.poll_now() for _ in range(20)]
            async with bot.db.transaction() as session:
                seen = await feeds.seen_keys(session, keys=["ledger-pdf"])
        fetched = site.requested("/report.pdf")
    assert fetched == ITEM_RETRIES.tries
    assert sum(report.given_up for (report,) in reports) == 1
    assert seen == {"ledger-pdf"}
    lines = [r.getMessage() for r in caplog.records if "ledger-pdf" in r.getMessage()]
    assert len(lines) == 2
    assert "tried again at later polls" in lines[0]
    assert "given up after 5 tries" in lines[1]


@pytest.mark.sqlite_only
async def test_a_start_failing_at_get_me_leaves_no_session_unclosed(
    tmp_path: Path, emulator: Emulator
) -> None:
    """`python -m bot run` whose getMe is answered 500 exits 1 with one line saying so, and
    prints no traceback, "Unclosed client session" or "Unclosed connector" line."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    database = tmp_path / "bot.db"
    emulator.inject_faults(500, methods={"getMe"}, seconds=120)
    code, _, err = await run_bot_command(
        tmp_path,
        "run",
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        PTB_TIMEDELTA="1",
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: Telegram did not answer at start ("), lines
    assert "Traceback" not in err
    assert "Unclosed" not in err, err[-2000:]
