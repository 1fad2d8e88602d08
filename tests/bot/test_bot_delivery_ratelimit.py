"""SendLimiter's pacing on a fake clock, and its 429 handling against the emulator."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from harness import BOT_TOKEN
from telegram.ext import ExtBot

from bot.telegram.limiter import SendLimiter, SendRates
from emulator.limits import RateLimits
from emulator.simulation import Emulator

GROUP_ID = -1_002_000_000_001


class FakeTime:
    """A clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await _real_sleep(0)


_real_sleep = asyncio.sleep


@pytest.fixture(name="fake_time")
def fake_time_fixture(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """A fake clock, and asyncio.sleep as the limiter sees it moving that clock."""
    fake = FakeTime()
    monkeypatch.setattr("bot.telegram.limiter.asyncio.sleep", fake.sleep)
    return fake


async def _send_times(
    limiter: SendLimiter, fake: FakeTime, targets: list[tuple[int, bool]]
) -> list[float]:
    """The fake instant at which each call reached Telegram, sent one after another."""
    times: list[float] = []

    async def call() -> dict[str, Any]:
        times.append(fake.now)
        return {}

    for chat_id, paid in targets:
        data = {"chat_id": chat_id, "allow_paid_broadcast": paid}
        await limiter.process_request(call, (), {}, "sendMessage", data, None)
    return times


def _gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


async def test_bot_wide_rate_spaces_sends(fake_time: FakeTime) -> None:
    """At 5 per second, sends to different chats go out 0.2 s apart."""
    limiter = SendLimiter(SendRates(per_second=5), clock=fake_time.clock)
    times = await _send_times(limiter, fake_time, [(100 + n, False) for n in range(6)])
    assert _gaps(times) == [0.2] * 5


async def test_private_chat_gets_one_message_a_second(fake_time: FakeTime) -> None:
    """Three sends to one private chat go out a second apart, however fast the bot may go."""
    limiter = SendLimiter(SendRates(per_second=1000), clock=fake_time.clock)
    times = await _send_times(limiter, fake_time, [(100, False)] * 3)
    assert _gaps(times) == [1.0, 1.0]


async def test_group_gets_at_most_20_a_minute(fake_time: FakeTime) -> None:
    """The 21st send to a group waits until the first leaves the one-minute window."""
    limiter = SendLimiter(SendRates(per_second=1000), clock=fake_time.clock)
    times = await _send_times(limiter, fake_time, [(GROUP_ID, False)] * 22)
    assert times[19] - times[0] < 60
    assert times[20] - times[0] >= 60
    assert times[21] - times[1] >= 60


async def test_paid_broadcast_uses_its_own_rate(fake_time: FakeTime) -> None:
    """Paid sends are paced at the paid rate (1000/s), not the bot-wide 1/s."""
    limiter = SendLimiter(SendRates(per_second=1, paid_per_second=1000), clock=fake_time.clock)
    times = await _send_times(limiter, fake_time, [(100 + n, True) for n in range(5)])
    assert _gaps(times) == [0.001] * 4


@pytest.fixture(name="strict_bot")
async def strict_bot_fixture(
    emulator: Emulator,
) -> AsyncIterator[tuple[ExtBot[None], SendLimiter]]:
    """A bot whose limiter lets bursts through to an emulator allowing 1 message per chat."""
    emulator.limits = RateLimits(per_chat_per_second=1.0, per_chat_burst=1)
    emulator.add_bot(BOT_TOKEN)
    limiter = SendLimiter(SendRates(private_interval=0.0))
    bot: ExtBot[None] = ExtBot(BOT_TOKEN, base_url=emulator.base_url, rate_limiter=limiter)
    await bot.initialize()
    yield bot, limiter
    await bot.shutdown()


async def test_429_pauses_the_chat_and_retries(
    emulator: Emulator, strict_bot: tuple[ExtBot[None], SendLimiter]
) -> None:
    """When Telegram answers 429, the limiter waits retry_after and the message still arrives."""
    bot, limiter = strict_bot
    reader = emulator.create_user("Ida")
    emulator.private_chat(reader).started = True
    await bot.send_message(reader.id, "first")
    await bot.send_message(reader.id, "second")
    texts = [m.text for m in emulator.bot_messages(emulator.private_chat(reader))]
    assert texts == ["first", "second"]
    assert emulator.count_errors(429) == 1
    assert limiter.retries_after_429 == 1
