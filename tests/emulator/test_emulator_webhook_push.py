"""Webhook pushes as Telegram makes them: up to max_connections requests at once, and a method
call carried in the endpoint's answer, done as if the bot had called it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from emulator import updates
from emulator.interaction import QUERY_TOO_OLD
from emulator.simulation import Emulator, SimUser, WebhookReplyError

Answer = Callable[[dict[str, Any]], Awaitable[web.Response]]


@dataclass
class Endpoint:
    """A bot's webhook endpoint on loopback: what it was sent, and how many requests it held."""

    url: str = ""
    answer: Answer | None = None
    update_ids: list[int] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    most_held: int = 0


@pytest.fixture(name="newcomer")
def newcomer_fixture(emu: Emulator) -> SimUser:
    """Nina, who has not written to the bot yet: what a test has her send are its only updates."""
    return emu.create_user("Nina")


@pytest.fixture(name="endpoint")
async def endpoint_fixture() -> AsyncIterator[Endpoint]:
    """A webhook endpoint answering each update with `endpoint.answer` (default: an empty 200)."""
    endpoint = Endpoint()

    async def hook(request: web.Request) -> web.Response:
        update: dict[str, Any] = await request.json()
        endpoint.held += 1
        endpoint.most_held = max(endpoint.most_held, endpoint.held)
        try:
            response = await endpoint.answer(update) if endpoint.answer else web.Response()
        finally:
            endpoint.held -= 1
        if 200 <= response.status < 300:
            endpoint.update_ids.append(update["update_id"])
            endpoint.bodies.append(update)
        return response

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        endpoint.url = str(server.make_url("/hook"))
        yield endpoint


@pytest.mark.parametrize("connections", [4, 1])
async def test_up_to_max_connections_updates_are_in_flight_at_once(
    emu: Emulator, bot: Bot, newcomer: SimUser, endpoint: Endpoint, connections: int
) -> None:
    """With max_connections=N, N pushes are held by the endpoint at once and never more; each
    held update still counts as pending, and every update arrives exactly once."""
    all_held, release = asyncio.Event(), asyncio.Event()

    async def hold(_update: dict[str, Any]) -> web.Response:
        if endpoint.held >= connections:
            all_held.set()
        await release.wait()
        return web.Response()

    endpoint.answer = hold
    total = connections + 2
    for number in range(total):
        await emu.send_message(newcomer, f"m{number}")
    sent = emu.update_ids()
    assert await bot.set_webhook(endpoint.url, max_connections=connections)
    await asyncio.wait_for(all_held.wait(), timeout=5)
    held_info = await bot.get_webhook_info()
    assert (endpoint.held, held_info.pending_update_count) == (connections, total)
    release.set()
    await emu.wait_for(lambda: emu.pending_updates() == 0 and endpoint.held == 0)
    assert endpoint.most_held == connections
    assert sorted(endpoint.update_ids) == sent
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_a_failing_update_is_retried_on_its_own_connection_then_dropped(
    emu: Emulator,
    bot: Bot,
    newcomer: SimUser,
    endpoint: Endpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While one update keeps failing and is retried with backoff, the next is delivered; after
    MAX_ATTEMPTS failures it is dropped, and getWebhookInfo reports the endpoint's error."""
    monkeypatch.setattr(updates, "LAST_RETRY", 0.01)
    next_arrived = asyncio.Event()
    failures: list[int] = []
    next_came_while_failing: list[bool] = []

    async def fail_the_first(update: dict[str, Any]) -> web.Response:
        if update["message"]["text"] != "broken":
            next_arrived.set()
            return web.Response()
        if not failures:
            # The first try is held until the next update arrives on another connection.
            try:
                await asyncio.wait_for(next_arrived.wait(), timeout=3)
                next_came_while_failing.append(True)
            except TimeoutError:
                next_came_while_failing.append(False)
        failures.append(update["update_id"])
        return web.Response(status=500)

    endpoint.answer = fail_the_first
    await emu.send_message(newcomer, "broken")
    await emu.send_message(newcomer, "fine")
    broken, fine = emu.update_ids()
    await bot.set_webhook(endpoint.url)
    await emu.wait_for(lambda: emu.pending_updates() == 0, timeout=10)
    assert next_came_while_failing == [True]
    assert endpoint.update_ids == [fine]
    assert failures == [broken] * updates.MAX_ATTEMPTS
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None


async def test_an_answer_callback_query_in_the_reply_answers_the_press(
    emu: Emulator, bot: Bot, reader: SimUser, endpoint: Endpoint
) -> None:
    """An endpoint answering a button press with an answerCallbackQuery body: the reader gets
    its toast, and the call is recorded as the bot's own, made in a webhook reply."""

    async def answer_presses(update: dict[str, Any]) -> web.Response:
        if "callback_query" not in update:
            return web.Response()
        query = update["callback_query"]
        return web.json_response(
            {"method": "answerCallbackQuery", "callback_query_id": query["id"], "text": "Noted!"}
        )

    endpoint.answer = answer_presses
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="vote:yes")]])
    sent = await bot.send_message(reader.id, "Vote?", reply_markup=buttons)
    await bot.set_webhook(endpoint.url)
    message = emu.private_chat(reader).messages[sent.message_id]
    answer = await emu.press_button(reader, message, text="Yes")
    assert (answer.text, answer.show_alert) == ("Noted!", False)
    (recorded,) = emu.requests("answerCallbackQuery")
    assert (recorded.status, recorded.webhook_reply) == (200, True)
    assert recorded.params["text"] == "Noted!"
    assert emu.webhook_reply_errors() == []


class Refused(NamedTuple):
    """A webhook reply Telegram refuses, and the refusal it gets."""

    reply: bytes
    method: str
    code: int
    description: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            Refused(
                b'{"method": "answerCallbackQueryy", "callback_query_id": "1"}',
                "answerCallbackQueryy",
                404,
                "Not Found",
            ),
            id="unknown-method",
        ),
        pytest.param(
            Refused(
                b'{"method": "answerCallbackQuery", "callback_query_id": "no-such-query"}',
                "answerCallbackQuery",
                400,
                f"Bad Request: {QUERY_TOO_OLD}",
            ),
            id="bad-callback-query-id",
        ),
        pytest.param(
            Refused(
                b'{"method": "sendMessage", "chat_id": 1}',
                "sendMessage",
                400,
                'Bad Request: parameter "text" is required',
            ),
            id="missing-parameter",
        ),
        pytest.param(
            Refused(b'{"method": ', "", 400, "Bad Request: can't parse JSON object"),
            id="not-json",
        ),
    ],
)
async def test_a_refused_reply_is_recorded_and_the_next_update_goes_on(
    emu: Emulator, bot: Bot, reader: SimUser, endpoint: Endpoint, case: Refused
) -> None:
    """A reply Telegram would refuse is kept with its error text, and the pusher carries on: the
    next update's reply (a sendMessage) reaches the reader."""

    async def refuse_then_send(update: dict[str, Any]) -> web.Response:
        if update["message"]["text"] == "/start":
            return web.Response(body=case.reply, content_type="application/json")
        return web.json_response(
            {"method": "sendMessage", "chat_id": reader.id, "text": "Still here."}
        )

    endpoint.answer = refuse_then_send
    await bot.set_webhook(endpoint.url)
    start_id = emu.update_ids()[0]
    await emu.wait_for(emu.webhook_reply_errors)
    asked = await emu.send_message(reader, "and now?")
    sent = await emu.wait_for_bot_message(emu.private_chat(reader), after=asked.message_id)
    assert sent.text == "Still here."
    assert emu.webhook_reply_errors() == [
        WebhookReplyError(start_id, case.method, case.code, case.description)
    ]
    (delivered,) = [r for r in emu.requests("sendMessage") if r.status == 200]
    assert delivered.webhook_reply


async def test_a_reply_without_a_method_changes_nothing(
    emu: Emulator, bot: Bot, reader: SimUser, endpoint: Endpoint
) -> None:
    """A 2xx JSON answer without "method", or an empty one, is no call and no error."""

    async def plain(update: dict[str, Any]) -> web.Response:
        if update["message"]["text"] == "/start":
            return web.json_response({"ok": True})
        return web.Response(body=b"", content_type="application/json")

    endpoint.answer = plain
    await bot.set_webhook(endpoint.url)
    await emu.send_message(reader, "second")
    await emu.wait_for(lambda: len(endpoint.update_ids) == 2)
    assert [r.method for r in emu.requests() if r.webhook_reply] == []
    assert emu.webhook_reply_errors() == []


async def test_a_reply_meets_the_same_flood_limits(
    manual_clock_emulator: Emulator, endpoint: Endpoint
) -> None:
    """A sendMessage in a webhook reply counts toward the chat's rate as the bot's HTTP sends
    do: after a burst of three, the reply gets Telegram's 429 and nothing is posted."""
    emu = manual_clock_emulator
    account = emu.add_bot("700900:flood-test-token", username="desk_bot")
    reader = emu.create_user("Rita")
    start = await emu.send_message(reader, "/start", bot=account)

    async def one_too_many(_update: dict[str, Any]) -> web.Response:
        return web.json_response(
            {"method": "sendMessage", "chat_id": reader.id, "text": "one too many"}
        )

    endpoint.answer = one_too_many
    async with Bot(account.token, base_url=emu.base_url) as bot:
        for number in range(3):
            await bot.send_message(reader.id, f"burst {number}")
        await bot.set_webhook(endpoint.url)
        await emu.wait_for(emu.webhook_reply_errors)
    assert emu.webhook_reply_errors() == [
        WebhookReplyError(
            emu.update_ids()[0], "sendMessage", 429, "Too Many Requests: retry after 1"
        )
    ]
    shown = emu.messages(emu.private_chat(reader), bot=account)
    assert [m.text for m in shown if m.message_id > start.message_id] == [
        "burst 0",
        "burst 1",
        "burst 2",
    ]
