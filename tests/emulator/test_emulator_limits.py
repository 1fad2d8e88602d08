"""Flood control in the emulator: per private chat, per group or channel, bot-wide and paid rates,
the 429 answer's retry_after, and the switch that lifts every limit."""

from __future__ import annotations

import pytest

from emulator.clock import ManualClock
from emulator.errors import ApiError
from emulator.limits import FloodControl, RateLimits

BOT = 42


@pytest.fixture(name="clock")
def fixture_clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture(name="flood")
def fixture_flood(clock: ManualClock) -> FloodControl:
    """Flood control with Telegram's default rates."""
    return FloodControl(RateLimits(), clock)


def send(
    flood: FloodControl, chat_id: int | None, kind: str | None, *, paid: bool = False
) -> None:
    flood.check(bot_id=BOT, chat_id=chat_id, chat_kind=kind, paid=paid)


def accepted(flood: FloodControl, chat_id: int | None, kind: str | None, sends: int) -> int:
    """How many of `sends` messages sent at once to the chat are let through rather than 429'd."""
    through = 0
    for _ in range(sends):
        try:
            send(flood, chat_id, kind)
            through += 1
        except ApiError as error:
            if error.code != 429:
                raise
    return through


def retry_after(flood: FloodControl, chat_id: int | None, kind: str | None, **kw: bool) -> int:
    """The retry_after of the 429 this send is refused with."""
    with pytest.raises(ApiError) as caught:
        send(flood, chat_id, kind, **kw)
    error = caught.value
    assert error.code == 429
    assert error.parameters is not None
    seconds = error.parameters["retry_after"]
    assert error.description == f"Too Many Requests: retry after {seconds}"
    assert isinstance(seconds, int)
    return seconds


# --- private chats ---


def test_private_chat_allows_a_short_burst_then_refuses(flood: FloodControl) -> None:
    """Three messages at once reach a private chat; the fourth gets 429 retry after 1."""
    for _ in range(3):
        send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 1


def test_private_chat_refuses_until_retry_after_has_passed(
    flood: FloodControl, clock: ManualClock
) -> None:
    """A refused chat stays refused until retry_after passes, then takes one more message."""
    for _ in range(3):
        send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 1
    clock.advance(0.5)
    assert retry_after(flood, 1, "private") == 1
    clock.advance(0.5)
    send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 1


def test_private_chat_takes_one_message_a_second(flood: FloodControl, clock: ManualClock) -> None:
    """One message a second to a private chat is never refused and never eats into its burst."""
    through_each_second = []
    for _ in range(20):
        through_each_second.append(accepted(flood, 1, "private", 1))
        clock.advance(1)

    assert through_each_second == [1] * 20
    assert accepted(flood, 1, "private", 4) == 3


def test_private_chats_are_limited_separately(flood: FloodControl) -> None:
    """A private chat that is out of messages does not hold back another one."""
    for _ in range(3):
        send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 1
    for _ in range(3):
        send(flood, 2, "private")


def test_retry_after_rounds_up_to_whole_seconds(clock: ManualClock) -> None:
    """retry_after is the wait rounded up to whole seconds."""
    flood = FloodControl(RateLimits(per_chat_per_second=0.25, per_chat_burst=1), clock)
    send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 4
    clock.advance(3.5)
    assert retry_after(flood, 1, "private") == 1
    clock.advance(0.5)
    send(flood, 1, "private")


# --- groups, supergroups and channels ---


@pytest.mark.parametrize("kind", ["group", "supergroup", "channel"])
def test_group_takes_20_messages_a_minute(
    flood: FloodControl, clock: ManualClock, kind: str
) -> None:
    """Twenty messages at once reach a group or channel; the 21st waits out the minute."""
    for _ in range(20):
        send(flood, -100, kind)
    assert retry_after(flood, -100, kind) == 60
    clock.advance(30)
    assert retry_after(flood, -100, kind) == 30
    clock.advance(30)
    for _ in range(20):
        send(flood, -100, kind)


def test_group_window_rolls(flood: FloodControl, clock: ManualClock) -> None:
    """The minute is rolling: a slot frees when the oldest of the last 20 messages is 60 s old."""
    for _ in range(20):  # one every 2 s, at 0 s to 38 s
        send(flood, -100, "supergroup")
        clock.advance(2)
    assert retry_after(flood, -100, "supergroup") == 20  # at 40 s; the 0 s one leaves at 60 s
    clock.advance(20)
    send(flood, -100, "supergroup")
    assert retry_after(flood, -100, "supergroup") == 2  # the 2 s one leaves at 62 s


def test_group_and_private_limits_are_independent(flood: FloodControl) -> None:
    """A group out of messages does not hold back private chats, nor other groups."""
    for _ in range(20):
        send(flood, -100, "group")
    assert retry_after(flood, -100, "group") == 60
    send(flood, -200, "group")
    send(flood, 1, "private")


# --- the whole bot ---


def test_bot_sends_30_messages_a_second(flood: FloodControl, clock: ManualClock) -> None:
    """Thirty messages a second across chats go through; the 31st is refused for the whole bot."""
    for chat_id in range(30):
        send(flood, chat_id, "private")
    assert retry_after(flood, 1000, "private") == 1
    assert retry_after(flood, -100, "channel") == 1
    clock.advance(1)
    for chat_id in range(100, 130):
        send(flood, chat_id, "private")


def test_paid_broadcast_sends_1000_messages_a_second(
    flood: FloodControl, clock: ManualClock
) -> None:
    """Paid broadcasts reach up to 1000 chats a second, past the bot-wide 30."""
    for chat_id in range(1000):
        send(flood, chat_id, "private", paid=True)
    assert retry_after(flood, 5000, "private", paid=True) == 1
    clock.advance(1)
    send(flood, 5000, "private", paid=True)


def test_paid_broadcast_keeps_per_chat_limits(flood: FloodControl) -> None:
    """Paying lifts the bot-wide rate, not the per-chat one."""
    for _ in range(3):
        send(flood, 1, "private", paid=True)
    assert retry_after(flood, 1, "private", paid=True) == 1


def test_inline_messages_count_only_toward_the_bot(flood: FloodControl) -> None:
    """Edits of inline messages have no chat: only the bot-wide rate applies to them."""
    for _ in range(30):
        send(flood, None, None)
    assert retry_after(flood, None, None) == 1


def test_bots_are_limited_separately(flood: FloodControl) -> None:
    """One bot out of messages does not hold back another bot."""
    for chat_id in range(30):
        send(flood, chat_id, "private")
    assert retry_after(flood, 1000, "private") == 1
    flood.check(bot_id=BOT + 1, chat_id=1000, chat_kind="private")


def test_refused_message_costs_nothing(flood: FloodControl, clock: ManualClock) -> None:
    """A message refused bot-wide is not charged to its chat."""
    for chat_id in range(30):
        send(flood, chat_id, "private")
    for _ in range(5):
        assert retry_after(flood, 1000, "private") == 1
    clock.advance(1)
    for _ in range(3):
        send(flood, 1000, "private")


# --- switches and odd input ---


def test_lifted_limits_refuse_nothing(clock: ManualClock) -> None:
    """Lifted limits let any number of messages through at once, and none is counted later."""
    flood = FloodControl(RateLimits.unlimited(), clock)

    assert accepted(flood, 1, "private", 2000) == 2000
    assert accepted(flood, -100, "channel", 2000) == 2000
    flood.limits.lifted = False
    assert accepted(flood, 1, "private", 4) == 3


def test_lifting_limits_takes_effect_at_once(flood: FloodControl) -> None:
    """Lifting the limits on a running emulator lets a refused chat through."""
    for _ in range(3):
        send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 1
    flood.limits.lifted = True
    send(flood, 1, "private")


def test_unknown_chat_kind_is_a_programming_error(flood: FloodControl) -> None:
    """A chat kind Telegram does not have is refused loudly, not silently unlimited."""
    with pytest.raises(ValueError, match="unknown chat kind"):
        send(flood, 1, "forum")


def test_forgetting_idle_chats_keeps_refusals(clock: ManualClock) -> None:
    """After thousands of chats come and go, a refused group is still refused."""
    flood = FloodControl(RateLimits(bot_per_second=1_000_000), clock)
    for _ in range(20):
        send(flood, -100, "group")
    assert retry_after(flood, -100, "group") == 60
    for chat_id in range(10_240):  # 10 s in steps of 1/1024 s, which add up exactly
        send(flood, chat_id, "private")
        clock.advance(1 / 1024)
    assert retry_after(flood, -100, "group") == 50
    for _ in range(3):
        send(flood, 1, "private")
    assert retry_after(flood, 1, "private") == 1
