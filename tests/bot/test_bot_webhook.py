"""Webhook mode end to end: the emulator pushes updates to the bot's own HTTP endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from harness import BOT_TOKEN, RunningBot, make_settings, start_bot_process
from polls_support import create_article_poll, post_poll_card, started_private_chat
from sqlmodel import select

from bot.app import HANDLED_UPDATES, build_application
from bot.runtime.webhook import SECRET_HEADER, WebhookReceiver, webhook
from bot.settings import Settings
from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import Emulator
from storage.engine import Database
from storage.models import Vote

SECRET = "webhook-secret_0123456789abcdefghijkl"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _webhook_settings(emulator: Emulator, database_url: str, port: int) -> Settings:
    return make_settings(
        emulator,
        database_url,
        set(),
        webhook_url=f"http://127.0.0.1:{port}/telegram/updates",
        webhook_secret=SECRET,
        webhook_port=port,
    )


@pytest.fixture(name="receiver")
async def receiver_fixture(
    emulator: Emulator, database_url: str
) -> AsyncIterator[WebhookReceiver]:
    """The bot in webhook mode, registered with the emulator."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    settings = _webhook_settings(emulator, database_url, _free_port())
    application = build_application(settings, Database.connect(settings.database_url))
    async with webhook(application, settings) as receiver:
        yield receiver


async def test_updates_pushed_by_webhook_are_answered(
    emulator: Emulator, receiver: WebhookReceiver
) -> None:
    """An update the emulator pushes with the secret header reaches the bot, which replies."""
    reader = emulator.create_user("Wes")
    await emulator.send_message(reader, "/start")
    reply = await emulator.wait_for_bot_message(emulator.private_chat(reader))
    assert "Welcome!" in reply.text
    assert receiver.stats.accepted >= 1
    assert emulator.requests("getUpdates") == []


async def test_set_webhook_asks_only_for_handled_updates(
    emulator: Emulator, receiver: WebhookReceiver
) -> None:
    """setWebhook carries exactly HANDLED_UPDATES, so a reader's edit is never pushed."""
    (registration,) = emulator.requests("setWebhook")
    assert registration.params["allowed_updates"] == list(HANDLED_UPDATES)
    reader = emulator.create_user("Ugo")
    chat = emulator.private_chat(reader)
    start = await emulator.send_message(reader, "/start")
    await emulator.wait_for_bot_message(chat)
    await emulator.edit_message(reader, start, "/start, edited")
    asked = await emulator.send_message(reader, "/help")
    reply = await emulator.wait_for_bot_message(chat, after=asked.message_id)
    assert "/subscribe" in reply.text
    # Pushed in order: had the edit been queued, it would have come before /help.
    assert receiver.stats.accepted == 2
    assert emulator.pending_updates() == 0


async def test_requests_without_the_secret_get_403_and_are_counted(
    receiver: WebhookReceiver,
) -> None:
    """A POST without the secret token, or with a wrong one, is refused with 403 and counted."""
    url = f"http://127.0.0.1:{receiver_port(receiver)}{receiver.path}"
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=update) as response:
            assert response.status == 403
        async with session.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as response:
            assert response.status == 403
        async with session.post(
            url, data=b"not json", headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 400
    assert receiver.stats.rejected_secret == 2
    assert receiver.stats.rejected_body == 1
    assert receiver.stats.accepted == 0


def _nested_update(depth: int) -> bytes:
    """An update whose message replies to a message that replies to ... `depth` deep."""
    message: dict[str, object] = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
    for level in range(depth):
        message = {
            "message_id": level + 2,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "reply_to_message": message,
        }
    return json.dumps({"update_id": 7, "message": message}).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"null", id="null"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"update"', id="string"),
        pytest.param(b'{"message":"x"}', id="no-update-id"),
        pytest.param(b'{"update_id":"x","message":{}}', id="text-update-id"),
        pytest.param(b'{"update_id":5,"message":"x"}', id="message-not-an-object"),
        pytest.param(b'{"update_id":5,"message":{"text":"hi"}}', id="message-missing-fields"),
        pytest.param(b'{"update_id": 5, "message": ', id="invalid-json"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested-json"),
        pytest.param(_nested_update(400), id="deeply-nested-update"),
    ],
)
async def test_a_body_that_is_not_an_update_gets_400_and_one_log_line(
    receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    """Any body that is not a valid update is answered 400 and logged once, never quoted."""
    url = f"http://127.0.0.1:{receiver_port(receiver)}{receiver.path}"
    with caplog.at_level(logging.WARNING):
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                url,
                data=body,
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            ) as response,
        ):
            assert response.status == 400
            assert await response.text() == "Bad Request"
    assert receiver.stats.rejected_body == 1
    assert receiver.stats.accepted == 0
    logged = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.name for record in logged] == ["bot.runtime.webhook"]
    line = logged[0].getMessage()
    assert line.startswith("webhook body from 127.0.0.1 is not an update: ")
    assert "\n" not in line
    assert len(line) < 200
    assert logged[0].exc_info is None
    for fragment in ('"x"', "hi", "[[["):
        assert fragment not in line


def receiver_port(receiver: WebhookReceiver) -> int:
    url = receiver.application.bot_data.settings.webhook_url
    assert url is not None
    return int(url.split(":")[2].split("/")[0])


@pytest.mark.sqlite_only
@pytest.mark.slow
async def test_run_webhook_subprocess_answers_and_keeps_secrets(
    emulator: Emulator, tmp_path: Path
) -> None:
    """`python -m bot run --webhook` registers itself, answers pushed updates, logs no secret."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    port = _free_port()
    process = await start_bot_process(
        tmp_path,
        "run",
        "--webhook",
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    try:
        await emulator.wait_for(lambda: emulator.requests("setWebhook"), timeout=30)
        reader = emulator.create_user("Ines")
        await emulator.send_message(reader, "/help")
        reply = await emulator.wait_for_bot_message(emulator.private_chat(reader), timeout=10)
        assert "/subscribe" in reply.text
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0
    log = err.decode()
    assert BOT_TOKEN.partition(":")[2] not in log
    assert SECRET not in log


async def test_a_tap_is_answered_in_the_reply_to_the_push(
    emulator: Emulator, receiver: WebhookReceiver
) -> None:
    """In webhook mode a vote tap is answered in the HTTP reply to the push (no call of its
    own), after the vote is stored; the reader sees the toast and the copy the new totals."""
    application = receiver.application
    running = RunningBot(
        emulator=emulator,
        account=next(iter(emulator.world.bots.values())),
        admin=emulator.create_user("Ada"),
        settings=application.bot_data.settings,
        db=application.bot_data.db,
        application=application,
    )
    reader = emulator.create_user("Vera")
    poll_id = await create_article_poll(running.db)
    card = await post_poll_card(running, started_private_chat(emulator, reader), poll_id)
    answer = await emulator.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))
    assert answer.text == "You voted: Yes"
    answers = emulator.requests("answerCallbackQuery")
    assert [request.webhook_reply for request in answers] == [True]
    async with running.db.transaction() as session:
        votes = (await session.exec(select(Vote))).all()
    assert [vote.user_id for vote in votes] == [reader.id]
    await emulator.wait_for(lambda: "Total votes: 1" in card.text, timeout=10)
