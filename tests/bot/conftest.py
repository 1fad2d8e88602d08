"""Fixtures the bot's behaviour tests share, beside tests/conftest.py's: the bot's database, the
bot started when a test says so, with the settings it chooses, and a news site on 127.0.0.1.

A test module that needs another site (one whose feed lists other stories) overrides `site`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_articles_support import NewsSite, serve_news_site
from database_templates import MigratedTemplate
from polls_support import StartBot, bot_starter

from emulator.simulation import Emulator


@pytest.fixture(name="database_url")
async def database_url_fixture(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """The bot's own database for one test. On SQLite a new file, which the bot builds at start
    as on a brand-new deployment; on TEST_DATABASE_URL's server, where building the schema
    takes many round trips, a copy of the session's migrated database, as after a first start."""
    if not os.environ.get("TEST_DATABASE_URL"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    template: MigratedTemplate = request.getfixturevalue("migrated_template")
    async with template.copy(tmp_path) as url:
        yield url


@pytest.fixture(name="start_bot")
def start_bot_fixture(
    emulator: Emulator, database_url: str, request: pytest.FixtureRequest
) -> StartBot:
    """Runs the bot (as in production) with chosen settings, once the test has set the emulator
    up; the bot and its admin Ada are registered already (private chats paced quicker for a
    test marked quick_private_chats)."""
    quick = request.node.get_closest_marker("quick_private_chats") is not None
    return bot_starter(emulator, database_url, quick_private_chats=quick)


@pytest.fixture(name="site")
async def site_fixture() -> AsyncIterator[NewsSite]:
    """A news site on 127.0.0.1: the seed-shaped page, its feed, and misbehaving addresses."""
    async with serve_news_site() as site:
        yield site
