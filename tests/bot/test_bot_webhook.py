"""Webhook mode end to end: the emulator pushes updates to the bot's own HTTP endpoint."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from harness import BOT_TOKEN, make_settings

from bot.app import build_application
from bot.settings import Settings
from bot.webhook import SECRET_HEADER, WebhookReceiver, webhook
from emulator.simulation import Emulator
from storage.engine import Database

SECRET = "webhook-secret_123"
ROOT = Path(__file__).resolve().parents[2]


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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "BOT_"))}
    env.update(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BASE_URL=emulator.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
        PYTHONPATH=str(ROOT),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--webhook",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
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
