"""Fixtures for behaviour tests: the emulator (from its pytest plugin) and a running bot."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness import BOT_TOKEN, RunningBot, fresh_postgres_database, make_settings

from bot.app import build_application
from bot.runtime.lifecycle import polling
from emulator.simulation import Emulator
from storage.engine import Database


@pytest.fixture(name="database_url")
async def database_url_fixture(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database per test: a SQLite file, or a new one on TEST_DATABASE_URL's server."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    async with fresh_postgres_database(server) as url:
        yield url


@pytest.fixture(name="running_bot")
async def running_bot_fixture(emulator: Emulator, database_url: str) -> AsyncIterator[RunningBot]:
    """The bot, wired as in production, long-polling the emulator until the test ends."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    settings = make_settings(emulator, database_url, {admin.id})
    db = Database.connect(settings.database_url)
    application = build_application(settings, db)
    async with polling(application, poll_timeout=1):
        yield RunningBot(emulator, account, admin, settings, db, application)
