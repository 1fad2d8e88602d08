"""Documents users send, getFile and downloads from `/file/bot<token>/<path>`, through the real
client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest

from emulator.params import METHODS, validate
from emulator.simulation import BotAccount, Emulator

TOKEN = "333444:files-test-token"
ARTICLE = "---\ntitle: Harbour news\nurl: https://example.org/harbour\n---\nThe tide came in.\n"
API_JSON = (
    Path(__file__).resolve().parents[2].parent / "shared" / "telegram-bot-api-spec" / "api.json"
)


@pytest.fixture(name="account")
def account_fixture(emulator: Emulator) -> BotAccount:
    """The bot registered with the emulator."""
    return emulator.add_bot(TOKEN)


@pytest.fixture(name="bot")
async def bot_fixture(emulator: Emulator, account: BotAccount) -> AsyncIterator[Bot]:
    """python-telegram-bot's real client, downloading files from the emulator too."""
    async with Bot(
        account.token, base_url=emulator.base_url, base_file_url=emulator.base_file_url
    ) as bot:
        yield bot


async def test_a_sent_document_can_be_fetched_and_downloaded(emulator: Emulator, bot: Bot) -> None:
    """A document a user sends reaches the bot, and getFile plus the download give its bytes."""
    user = emulator.create_user("Dana")
    await emulator.send_message(user, "Draft", document=("harbour.md", ARTICLE.encode()))
    (update,) = await bot.get_updates()
    assert update.message is not None
    document = update.message.document
    assert document is not None
    assert (document.file_name, document.file_size, document.mime_type) == (
        "harbour.md",
        len(ARTICLE.encode()),
        "text/markdown",
    )
    assert update.message.caption == "Draft"

    telegram_file = await bot.get_file(document.file_id)
    assert telegram_file.file_size == len(ARTICLE.encode())
    assert telegram_file.file_path is not None
    assert telegram_file.file_path.startswith(f"{emulator.base_file_url}{TOKEN}/documents/")
    assert bytes(await telegram_file.download_as_bytearray()) == ARTICLE.encode()


async def test_get_file_of_an_unknown_id_is_refused(bot: Bot) -> None:
    """getFile with an id the emulator never issued answers Telegram's "invalid file_id"."""
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("BQACAgIAAxkBAAIunknown")


async def test_download_needs_a_known_token_and_path(
    emulator: Emulator, account: BotAccount
) -> None:
    """The file route answers 401 for a wrong token and 404 for a path it never handed out."""
    user = emulator.create_user("Eli")
    await emulator.send_message(user, "File", document=("notes.md", b"# Notes\n"))
    document = emulator.messages(emulator.private_chat(user))[-1].document
    assert document is not None
    path = emulator.world.stored_files[document["file_id"]].file_path
    async with httpx.AsyncClient(trust_env=False) as client:
        good = await client.get(f"{emulator.base_file_url}{account.token}/{path}")
        wrong_token = await client.get(f"{emulator.base_file_url}999:nope/{path}")
        unknown = await client.get(f"{emulator.base_file_url}{account.token}/documents/x.md")
    assert (good.status_code, good.content) == (200, b"# Notes\n")
    assert wrong_token.status_code == 401
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_get_file_parameters_match_the_bot_api() -> None:
    """getFile takes exactly api.json's fields, and python-telegram-bot's request passes."""
    if not API_JSON.exists():
        pytest.skip(f"api.json not found at {API_JSON}: conformance not checked")
    methods: dict[str, Any] = json.loads(API_JSON.read_text(encoding="utf-8"))["methods"]
    expected = {
        field["name"]: (tuple(field["types"]), field["required"])
        for field in methods["getFile"]["fields"]
    }
    served = {
        name: (spec.types, spec.required) for name, spec in METHODS["getFile"].fields.items()
    }
    assert served == expected
    assert validate("getFile", {"file_id": "BQAC"}) == {"file_id": "BQAC"}
