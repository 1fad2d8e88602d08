"""Fixtures the bot's behaviour tests share, beside tests/conftest.py's: the bot started when a
test says so, with the settings it chooses, and a news site on 127.0.0.1.

A test module that needs another site (one whose feed lists other stories) overrides `site`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bot_articles_support import NewsSite, serve_news_site
from polls_support import StartBot, bot_starter

from emulator.simulation import Emulator


@pytest.fixture(name="start_bot")
def start_bot_fixture(emulator: Emulator, database_url: str) -> StartBot:
    """Runs the bot (as in production) with chosen settings, once the test has set the emulator
    up; the bot and its admin Ada are registered already."""
    return bot_starter(emulator, database_url)


@pytest.fixture(name="site")
async def site_fixture() -> AsyncIterator[NewsSite]:
    """A news site on 127.0.0.1: the seed-shaped page, its feed, and misbehaving addresses."""
    async with serve_news_site() as site:
        yield site
