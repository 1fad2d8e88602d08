"""Fixtures the emulator's tests share: an emulator, a bot registered with it, the bot's
python-telegram-bot client, a reader who started the bot, and a raw HTTP client.

A test module that needs another clock or other limits overrides `emu`; the others follow it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot

from emulator.limits import RateLimits
from emulator.simulation import BotAccount, Emulator, SimUser

TOKEN = "700800:emulator-test-token"


@pytest.fixture(name="emu")
async def emu_fixture() -> AsyncIterator[Emulator]:
    """An emulator without flood limits, so a test sees only the refusals it provokes."""
    async with Emulator(limits=RateLimits.unlimited()) as running:
        yield running


@pytest.fixture(name="account")
def account_fixture(emu: Emulator) -> BotAccount:
    """The bot registered with the emulator, as @desk_bot."""
    return emu.add_bot(TOKEN, username="desk_bot")


@pytest.fixture(name="bot")
async def bot_fixture(emu: Emulator, account: BotAccount) -> AsyncIterator[Bot]:
    """python-telegram-bot's real client talking to the emulator."""
    async with Bot(account.token, base_url=emu.base_url) as bot:
        yield bot


@pytest.fixture(name="reader")
async def reader_fixture(emu: Emulator, account: BotAccount) -> SimUser:
    """Rita Reader (@rita), who started the bot; her /start is still pending for the bot."""
    user = emu.create_user("Rita", username="rita", last_name="Reader")
    await emu.send_message(user, "/start", bot=account)
    return user


@pytest.fixture(name="http")
async def http_fixture() -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP client, for what python-telegram-bot never sends (other body formats, pages)."""
    async with aiohttp.ClientSession() as session:
        yield session
