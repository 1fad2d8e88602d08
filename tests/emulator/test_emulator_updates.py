"""How updates reach the bot: getUpdates semantics, the 409 conflicts, and webhook pushes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from emulator.simulation import BotAccount, Emulator, SimUser

SECOND_POLLER = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)


@pytest.fixture(name="newcomer")
def newcomer_fixture(emu: Emulator) -> SimUser:
    """Rita, who has not written to the bot yet: what a test has her send are its only updates."""
    return emu.create_user("Rita")


@dataclass
class Receiver:
    """A webhook endpoint that records what it is sent and answers with scripted statuses."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    failures_left: int = 0


@pytest.fixture(name="receiver")
async def receiver_fixture() -> AsyncIterator[Receiver]:
    """A running webhook endpoint on a free loopback port."""
    receiver = Receiver()

    async def hook(request: web.Request) -> web.Response:
        if receiver.failures_left > 0:
            receiver.failures_left -= 1
            return web.Response(status=500)
        receiver.bodies.append(await request.json())
        receiver.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield receiver
    await runner.cleanup()


async def test_updates_carry_increasing_ids_and_offset_confirms(
    emu: Emulator, bot: Bot, newcomer: SimUser
) -> None:
    """Updates come in order with increasing ids; an offset forgets every earlier update."""
    for text in ("one", "two", "three"):
        await emu.send_message(newcomer, text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    rest = await bot.get_updates(offset=ids[1])
    assert [u.update_id for u in rest] == ids[1:]
    assert emu.pending_updates() == 2


async def test_limit_and_negative_offset(emu: Emulator, bot: Bot, newcomer: SimUser) -> None:
    """limit caps the batch; a negative offset keeps only the last updates."""
    for number in range(5):
        await emu.send_message(newcomer, f"m{number}")
    assert len(await bot.get_updates(limit=2)) == 2
    last_two = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last_two if u.message] == ["m3", "m4"]
    assert emu.pending_updates() == 2


async def test_long_poll_wakes_on_a_new_update(
    emu: Emulator, bot: Bot, newcomer: SimUser, account: BotAccount
) -> None:
    """A waiting getUpdates returns as soon as a user writes."""
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_for(lambda: account.poll_generation == 1)
    await emu.send_message(newcomer, "wake up")
    updates = await asyncio.wait_for(poll, timeout=10)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_second_poller_terminates_the_first(
    emu: Emulator, bot: Bot, newcomer: SimUser, account: BotAccount
) -> None:
    """A second concurrent getUpdates makes the earlier one fail with 409 Conflict."""
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_for(lambda: account.poll_generation == 1)
    async with Bot(account.token, base_url=emu.base_url) as second_instance:
        second = asyncio.create_task(second_instance.get_updates(timeout=30))
        with pytest.raises(Conflict) as caught:
            await first
        assert caught.value.message == SECOND_POLLER
        await emu.send_message(newcomer, "for the survivor")
        updates = await second
    assert [u.message.text for u in updates if u.message] == ["for the survivor"]


async def test_allowed_updates_persist_across_calls(
    emu: Emulator, bot: Bot, newcomer: SimUser
) -> None:
    """Once a poll asks only for callback queries, later messages are not delivered."""
    await bot.get_updates(allowed_updates=["callback_query"])
    await emu.send_message(newcomer, "ignored")
    assert await bot.get_updates() == ()


async def test_chat_member_updates_are_opt_in(emu: Emulator, bot: Bot) -> None:
    """chat_member is not delivered by default, and is once asked for."""
    owner, member = emu.create_user("Olga"), emu.create_user("Max")
    group = emu.create_group("Desk", creator=owner, supergroup=True)
    await emu.add_bot_to_chat(group, by=owner, admin=True)
    await emu.set_member_status(group, member, "member")
    assert [u.chat_member for u in await bot.get_updates() if u.chat_member] == []
    await bot.get_updates(allowed_updates=["chat_member"])
    await emu.set_member_status(group, member, "administrator")
    changes = [u.chat_member for u in await bot.get_updates() if u.chat_member]
    assert [c.new_chat_member.status for c in changes] == ["administrator"]


async def test_webhook_receives_updates_with_the_secret_header(
    emu: Emulator, bot: Bot, newcomer: SimUser, receiver: Receiver
) -> None:
    """Updates are POSTed as JSON with X-Telegram-Bot-Api-Secret-Token."""
    assert await bot.set_webhook(receiver.url, secret_token="s3cr3t-_")
    await emu.send_message(newcomer, "pushed")
    await emu.wait_for(lambda: receiver.bodies)
    assert receiver.bodies[0]["message"]["text"] == "pushed"
    assert receiver.secrets == ["s3cr3t-_"]
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver.url, 0)


async def test_webhook_retries_after_a_failure_and_reports_it(
    emu: Emulator, bot: Bot, newcomer: SimUser, receiver: Receiver
) -> None:
    """A 500 from the endpoint is retried; getWebhookInfo shows the last error."""
    receiver.failures_left = 2
    await bot.set_webhook(receiver.url)
    await emu.send_message(newcomer, "eventually")
    await emu.wait_for(lambda: receiver.bodies)
    assert receiver.bodies[0]["message"]["text"] == "eventually"
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None
    assert "500" in info.last_error_message


async def test_polling_while_a_webhook_is_set_conflicts(bot: Bot, receiver: Receiver) -> None:
    """getUpdates while a webhook is active gets 409; deleteWebhook ends it."""
    await bot.set_webhook(receiver.url)
    with pytest.raises(Conflict, match=r"can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_drop_pending_updates(emu: Emulator, bot: Bot, newcomer: SimUser) -> None:
    """deleteWebhook(drop_pending_updates=True) forgets the queued updates."""
    await emu.send_message(newcomer, "stale")
    await bot.delete_webhook(drop_pending_updates=True)
    assert emu.pending_updates() == 0


async def test_secret_token_characters_are_checked(bot: Bot, receiver: Receiver) -> None:
    """A secret token outside A-Z a-z 0-9 _ - is refused."""
    with pytest.raises(BadRequest, match=r"secret token"):
        await bot.set_webhook(receiver.url, secret_token="no spaces!")
