"""The emulator's HTTP face: envelope, authentication, body formats, names, the request log."""

from __future__ import annotations

import json

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, EndPointNotFound, InvalidToken

from emulator.simulation import BotAccount, Emulator, SimUser

TOKEN = "111222:server-test-token"


@pytest.fixture(name="account")
def account_fixture(emulator: Emulator) -> BotAccount:
    """The bot registered with the emulator."""
    return emulator.add_bot(TOKEN, username="server_bot", first_name="Server")


@pytest.fixture(name="reader")
async def reader_fixture(emulator: Emulator, account: BotAccount) -> SimUser:
    """A user who started the bot."""
    user = emulator.create_user("Rita", username="rita")
    await emulator.send_message(user, "/start", bot=account)
    return user


async def test_get_me_answers_with_the_bots_identity(
    emulator: Emulator, account: BotAccount
) -> None:
    """getMe returns the registered bot as a User with is_bot set."""
    async with Bot(TOKEN, base_url=emulator.base_url) as bot:
        me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (account.id, "server_bot", True)


async def test_unknown_token_is_refused_as_invalid(emulator: Emulator) -> None:
    """A token the emulator does not know gets 401 Unauthorized, InvalidToken to the client."""
    with pytest.raises(InvalidToken):
        async with Bot("999:unknown", base_url=emulator.base_url):
            pass
    assert emulator.requests()[-1].status == 401
    assert emulator.requests()[-1].response["description"] == "Unauthorized"


async def test_unknown_method_is_not_found(
    emulator: Emulator, account: BotAccount, http: aiohttp.ClientSession
) -> None:
    """A method Telegram does not have answers 404 with the error envelope."""
    async with http.post(f"{emulator.base_url}{account.token}/sendTelepathy") as response:
        body = await response.json()
    assert response.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_unknown_method_reaches_the_client_as_endpoint_not_found(
    emulator: Emulator, account: BotAccount
) -> None:
    """python-telegram-bot reads the 404 of an unknown method as a missing endpoint."""
    async with Bot(account.token, base_url=emulator.base_url) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_method_names_are_case_insensitive(
    emulator: Emulator, account: BotAccount, http: aiohttp.ClientSession
) -> None:
    """GET /getme works like getMe, as in Telegram."""
    async with http.get(f"{emulator.base_url}{account.token}/getme") as response:
        body = await response.json()
    assert response.status == 200
    assert body["ok"] is True
    assert body["result"]["id"] == account.id


async def test_json_body_and_query_string_are_accepted(
    emulator: Emulator, account: BotAccount, reader: SimUser, http: aiohttp.ClientSession
) -> None:
    """sendMessage works with a JSON body and with parameters in the query string."""
    url = f"{emulator.base_url}{account.token}/sendMessage"
    async with http.post(url, json={"chat_id": reader.id, "text": "from json"}) as response:
        assert response.status == 200
    async with http.get(url, params={"chat_id": str(reader.id), "text": "from query"}) as response:
        assert response.status == 200
    texts = [m.text for m in emulator.bot_messages(emulator.private_chat(reader))]
    assert texts == ["from json", "from query"]


async def test_form_fields_carry_nested_json(
    emulator: Emulator, account: BotAccount, reader: SimUser, http: aiohttp.ClientSession
) -> None:
    """A form-urlencoded reply_markup field holding JSON becomes the message's keyboard."""
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    form = {"chat_id": str(reader.id), "text": "Sure?", "reply_markup": json.dumps(keyboard)}
    async with http.post(f"{emulator.base_url}{account.token}/sendMessage", data=form) as resp:
        assert resp.status == 200
    message = emulator.bot_messages(emulator.private_chat(reader))[-1]
    assert message.buttons == [[{"text": "Yes", "callback_data": "y"}]]


async def test_missing_parameter_is_a_bad_request(
    emulator: Emulator, account: BotAccount, http: aiohttp.ClientSession
) -> None:
    """A call without a required parameter gets Telegram's 400 naming it."""
    url = f"{emulator.base_url}{account.token}/sendMessage"
    async with http.post(url, data={"text": "hi"}) as response:
        body = await response.json()
    assert response.status == 400
    assert body["description"] == 'Bad Request: parameter "chat_id" is required'


async def test_every_request_is_recorded_with_its_response(
    emulator: Emulator, account: BotAccount, reader: SimUser
) -> None:
    """The request log keeps method, validated params, status and envelope of each call."""
    async with Bot(account.token, base_url=emulator.base_url) as bot:
        await bot.send_message(reader.id, "logged")
        with pytest.raises(BadRequest):
            await bot.send_message(reader.id, " ")
    sends = emulator.requests("sendMessage")
    assert [(r.method, r.status, r.params["text"]) for r in sends] == [
        ("sendMessage", 200, "logged"),
        ("sendMessage", 400, " "),
    ]
    assert sends[0].response["result"]["text"] == "logged"
    assert sends[0].bot_id == account.id
    assert emulator.count_errors(400) == 1


async def test_recording_can_be_switched_off() -> None:
    """Emulator(record_requests=False) keeps no request log, for benchmarks, but still counts
    its answers by status."""
    async with Emulator(record_requests=False) as quiet:
        account = quiet.add_bot(TOKEN)
        async with Bot(account.token, base_url=quiet.base_url) as bot:
            await bot.get_me()
            with pytest.raises(BadRequest):
                await bot.send_message(12345, "nobody there")
        assert quiet.requests() == []
        assert quiet.count_errors(400) == 1
