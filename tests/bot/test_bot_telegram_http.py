"""The bot's HTTP transport (AiohttpRequest) under python-telegram-bot, against the emulator:
JSON bodies and uploads arrive intact, slow answers raise TimedOut, a dead server raises
NetworkError, and no error text carries the bot token."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from harness import BOT_TOKEN
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.telegram.transport import AiohttpRequest, _env_proxy, _proxy_for
from emulator.simulation import Emulator, SimUser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest_asyncio.fixture(name="bot")
async def bot_fixture(emulator: Emulator) -> AsyncIterator[Bot]:
    emulator.add_bot(BOT_TOKEN)
    request = AiohttpRequest(pool_size=4, read_timeout=1.0)
    async with Bot(BOT_TOKEN, base_url=emulator.base_url, request=request) as bot:
        yield bot


def _reader(emulator: Emulator) -> SimUser:
    reader = emulator.create_user("Ada")
    emulator.private_chat(reader).started = True
    return reader


async def test_json_body_carries_text_and_keyboard(bot: Bot, emulator: Emulator) -> None:
    reader = _reader(emulator)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="v:1")]])
    sent = await bot.send_message(
        reader.id, "<b>Polls open</b> ünïcode", parse_mode="HTML", reply_markup=keyboard
    )
    stored = emulator.bot_messages(emulator.private_chat(reader))[-1]
    assert stored.message_id == sent.message_id
    assert stored.html == "<b>Polls open</b> ünïcode"
    assert stored.buttons == [[{"text": "Yes", "callback_data": "v:1"}]]


async def test_upload_goes_as_multipart_with_its_caption(bot: Bot, emulator: Emulator) -> None:
    reader = _reader(emulator)
    sent = await bot.send_photo(reader.id, photo=PNG, caption="Front page")
    stored = emulator.bot_messages(emulator.private_chat(reader))[-1]
    assert stored.photo
    assert stored.caption == "Front page"
    assert sent.photo


async def test_slow_answer_raises_timed_out(bot: Bot, emulator: Emulator) -> None:
    reader = _reader(emulator)
    emulator.inject_faults("timeout", methods={"sendMessage"}, count=1, hold=3.0)
    with pytest.raises(TimedOut):
        await bot.send_message(reader.id, "Late edition")


async def test_unreachable_server_raises_network_error_without_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe closes.
    bot = Bot(BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    with pytest.raises(NetworkError) as raised:
        await bot.initialize()  # its first call, getMe, finds nobody there
    await bot.shutdown()
    assert not isinstance(raised.value, TimedOut)
    assert BOT_TOKEN.split(":")[1] not in str(raised.value)
    assert BOT_TOKEN.split(":")[1] not in repr(raised.value.__cause__)


async def test_request_before_initialize_is_refused() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/bot/getMe", "POST")


def test_proxy_comes_from_the_environment_unless_the_server_is_exempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    _proxy_for.cache_clear()
    try:
        assert _env_proxy("https://api.telegram.org/botX/getMe") == "http://proxy.example:3128"
        assert _env_proxy("http://127.0.0.1:8081/botX/getMe") is None
    finally:
        _proxy_for.cache_clear()
