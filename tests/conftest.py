"""Fixtures for behaviour tests: the emulator (from its pytest plugin), a running bot, and
databases: empty, or a copy of the one the session migrated."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from database_templates import MigratedTemplate, fresh_postgres_database
from harness import BOT_TOKEN, RunningBot, make_settings, quicken_private_chats

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


@pytest.fixture(name="migrated_template", scope="session")
def migrated_template_fixture(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MigratedTemplate]:
    """One database migrated to the newest schema for the whole session, to be copied."""
    server = os.environ.get("TEST_DATABASE_URL") or None
    template = MigratedTemplate.build(server, tmp_path_factory.mktemp("migrated"))
    yield template
    template.drop()


@pytest.fixture(name="migrated_database_url")
async def migrated_database_url_fixture(
    tmp_path: Path, migrated_template: MigratedTemplate
) -> AsyncIterator[str]:
    """A database of the test's own already at the newest schema (a copy of the session's
    migrated one, as if the migrations had just run on it)."""
    async with migrated_template.copy(tmp_path) as url:
        yield url


@pytest.fixture(name="running_bot")
async def running_bot_fixture(
    emulator: Emulator, database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[RunningBot]:
    """The bot, wired as in production, long-polling the emulator until the test ends (pacing
    private chats quicker for a test marked quick_private_chats)."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada", username="ada_editor")
    settings = make_settings(emulator, database_url, {admin.id})
    db = Database.connect(settings.database_url)
    application = build_application(settings, db)
    async with polling(application, poll_timeout=1):
        running = RunningBot(emulator, account, admin, settings, db, application)
        if request.node.get_closest_marker("quick_private_chats"):
            quicken_private_chats(running)
        yield running
