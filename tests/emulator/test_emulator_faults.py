"""Injected faults: 5xx answers for a count or a while, held requests, odd "ok" results, updates
delivered again, and update ids starting over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from emulator.simulation import BotAccount, Emulator, SimUser


@pytest.fixture(name="impatient_bot")
async def impatient_bot_fixture(emu: Emulator, account: BotAccount) -> AsyncIterator[Bot]:
    """python-telegram-bot's real client, giving up on an answer after half a second."""
    request = HTTPXRequest(read_timeout=0.5)
    async with Bot(account.token, base_url=emu.base_url, request=request) as bot:
        yield bot


async def test_count_faults_answer_5xx_then_the_method_works(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """Two injected 502s fail two sends with nothing posted; the third send goes through."""
    emu.inject_faults(502, methods={"sendMessage"}, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(reader.id, "hello")
    await bot.send_message(reader.id, "hello")
    chat = emu.private_chat(reader)
    assert [m.text for m in emu.bot_messages(chat)] == ["hello"]
    assert emu.faults_injected == 2
    assert [r.status for r in emu.requests("sendMessage")] == [502, 502, 200]


async def test_faults_leave_other_methods_alone(
    emu: Emulator, account: BotAccount, bot: Bot, reader: SimUser
) -> None:
    """A fault limited to sendMessage does not touch getMe."""
    emu.inject_faults(503, methods={"sendMessage"}, count=1)
    me = await bot.get_me()
    assert me.id == account.id
    with pytest.raises(NetworkError):
        await bot.send_message(reader.id, "hello")


async def test_timed_faults_expire(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """A fault for a number of seconds answers every matching request until it ends."""
    emu.inject_faults(500, seconds=0.3)
    with pytest.raises(NetworkError):
        await bot.send_message(reader.id, "one")
    await asyncio.sleep(0.3)
    await bot.send_message(reader.id, "two")
    assert [m.text for m in emu.bot_messages(emu.private_chat(reader))] == ["two"]


async def test_timeout_fault_holds_the_request_without_doing_it(
    emu: Emulator, impatient_bot: Bot, reader: SimUser
) -> None:
    """A held request times out in the client and posts nothing."""
    emu.inject_faults("timeout", methods={"sendMessage"}, count=1, hold=2.0)
    with pytest.raises(TimedOut):
        await impatient_bot.send_message(reader.id, "lost")
    await impatient_bot.send_message(reader.id, "kept")
    assert [m.text for m in emu.bot_messages(emu.private_chat(reader))] == ["kept"]


async def test_result_fault_answers_ok_with_null_and_edits_nothing(
    emu: Emulator, account: BotAccount, bot: Bot, reader: SimUser
) -> None:
    """An edit answered `"ok": true, "result": null`: the request is recorded, the text stays."""
    sent = await bot.send_message(reader.id, "before")
    emu.inject_faults("result", methods={"editMessageText"}, count=1)
    async with (
        ClientSession() as http,
        http.post(
            f"{emu.base_url}{account.token}/editMessageText",
            json={"chat_id": reader.id, "message_id": sent.message_id, "text": "after"},
        ) as response,
    ):
        assert await response.json() == {"ok": True, "result": None}
    [edit] = emu.requests("editMessageText")
    assert (edit.status, edit.response) == (200, {"ok": True, "result": None})
    assert edit.params["text"] == "after"
    assert [m.text for m in emu.bot_messages(emu.private_chat(reader))] == ["before"]
    await bot.edit_message_text("after", chat_id=reader.id, message_id=sent.message_id)
    assert [m.text for m in emu.bot_messages(emu.private_chat(reader))] == ["after"]


@pytest.mark.usefixtures("reader")
async def test_empty_result_fault_answers_get_updates_at_once(emu: Emulator, bot: Bot) -> None:
    """getUpdates answered `[]` without waiting, though an update is pending; it comes after."""
    emu.inject_faults("result", methods={"getUpdates"}, count=1, result=[])
    assert await bot.get_updates(timeout=30) == ()
    pending = await bot.get_updates(timeout=0)
    assert [u.message.text for u in pending if u.message] == ["/start"]


async def test_update_ids_restart_and_old_offsets_confirm_nothing(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """After a restart the next update has the first id again; the old offset keeps it."""
    [first] = await bot.get_updates(timeout=0)
    assert await bot.get_updates(offset=first.update_id + 1, timeout=0) == ()
    assert emu.restart_update_ids() == first.update_id
    await emu.send_message(reader, "again")
    [again] = await bot.get_updates(offset=first.update_id + 1, timeout=0)
    assert again.update_id == first.update_id
    assert again.message is not None
    assert again.message.text == "again"
    assert await bot.get_updates(offset=again.update_id + 1, timeout=0) == ()


def test_fault_arguments_are_checked(emu: Emulator) -> None:
    """Either a count or a duration, and only 5xx statuses, "timeout" or "result"."""
    with pytest.raises(ValueError, match="either"):
        emu.inject_faults(502)
    with pytest.raises(ValueError, match="5xx"):
        emu.inject_faults(404, count=1)


@pytest.mark.usefixtures("reader")
async def test_redeliver_hands_out_the_same_update_again(emu: Emulator, bot: Bot) -> None:
    """After the offset confirmed an update, redeliver sends it once more with its update_id."""
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["/start"]
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
    update_id = emu.redeliver()
    again = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [(u.update_id, u.message.text if u.message else None) for u in again] == [
        (update_id, "/start")
    ]
    assert emu.update_ids() == [update_id]
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()


def test_redeliver_names_a_recent_update(emu: Emulator, account: BotAccount) -> None:
    """Redelivering without any update, or an unknown id, is a LookupError."""
    with pytest.raises(LookupError):
        emu.redeliver(bot=account)


@pytest.fixture(name="hook_bodies")
async def hook_bodies_fixture() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook endpoint on loopback, and the update bodies it was sent."""
    bodies: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/hook")), bodies


@pytest.mark.usefixtures("reader")
async def test_redeliver_pushes_again_to_a_webhook(
    emu: Emulator, bot: Bot, hook_bodies: tuple[str, list[dict[str, Any]]]
) -> None:
    """With a webhook set, a redelivered update is pushed a second time with its update_id."""
    url, bodies = hook_bodies
    await bot.set_webhook(url)
    await emu.wait_for(lambda: len(bodies) == 1, timeout=5)
    update_id = emu.redeliver()
    await emu.wait_for(lambda: len(bodies) == 2, timeout=5)
    assert [body["update_id"] for body in bodies] == [update_id, update_id]
    assert bodies[1]["message"]["text"] == "/start"
    await bot.delete_webhook()
