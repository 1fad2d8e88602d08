"""Flood control as Telegram applies it to a bot: per private chat, per group or channel, per bot.

Every rate is a setting (`RateLimits`) with Telegram's observed figures as defaults. A refused call
gets 429 with `retry_after` in whole seconds, and the chat (or the whole bot, when the bot-wide
rate was exceeded) keeps being refused until that time has passed, as Telegram does.
Each check costs O(1) amortized: token buckets per private chat and per bot, and a queue of at
most `per_group_per_minute` send times per group.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import NoReturn

from emulator.clock import Clock
from emulator.errors import ApiError

GROUP_WINDOW_SECONDS = 60.0
GROUP_KINDS = frozenset({"group", "supergroup", "channel"})
# Float slack so that a clock moved by exactly the awaited time counts as having waited it.
_EPSILON = 1e-9
# Idle per-chat state is dropped once the tables reach this size, then again at twice the size.
_SWEEP_FLOOR = 4096


@dataclass
class RateLimits:
    """The rates flood control enforces; `lifted` switches all of them off."""

    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    bot_per_second: float = 30.0
    paid_per_second: float = 1000.0
    lifted: bool = False

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls(lifted=True)


class _Limiter:
    """What every limiter shares: the time until which it refuses everything."""

    __slots__ = ("blocked_until",)

    def __init__(self) -> None:
        self.blocked_until = -math.inf

    def refuse_if_blocked(self, now: float) -> None:
        if self.blocked_until > now + _EPSILON:
            raise ApiError.too_many_requests(_whole_seconds(self.blocked_until - now))

    def refuse(self, wait: float, now: float) -> NoReturn:
        retry_after = _whole_seconds(wait)
        self.blocked_until = now + retry_after
        raise ApiError.too_many_requests(retry_after)


class _TokenBucket(_Limiter):
    """`capacity` sends at once, refilled at `rate` per second."""

    __slots__ = ("tokens", "updated")

    def __init__(self, capacity: float, now: float) -> None:
        super().__init__()
        self.tokens = capacity
        self.updated = now

    def wait(self, rate: float, capacity: float, now: float) -> float:
        """Seconds until a send is allowed; 0 when it is allowed now."""
        self.tokens = min(capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1 - _EPSILON:
            return 0.0
        return (1 - self.tokens) / rate

    def record(self, now: float) -> None:  # noqa: ARG002 - same signature as _RollingWindow
        self.tokens -= 1

    def idle(self, rate: float, capacity: float, now: float) -> bool:
        """True when the bucket is as a new one would be: full and not refusing."""
        self.wait(rate, capacity, now)
        return self.blocked_until <= now and self.tokens >= capacity - _EPSILON


class _RollingWindow(_Limiter):
    """At most `size` sends in any `span` seconds: the times of the last sends, oldest first."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        super().__init__()
        self.sent: deque[float] = deque()

    def wait(self, size: int, span: float, now: float) -> float:
        """Seconds until a send is allowed; 0 when it is allowed now."""
        sent = self.sent
        while sent and sent[0] + span <= now + _EPSILON:
            sent.popleft()
        if len(sent) < size:
            return 0.0
        # The send that must leave the window before another fits in it.
        return sent[-size] + span - now

    def record(self, now: float) -> None:
        self.sent.append(now)

    def idle(self, size: int, span: float, now: float) -> bool:
        """True when the window is as a new one would be: empty and not refusing."""
        self.wait(size, span, now)
        return self.blocked_until <= now and not self.sent


def _whole_seconds(wait: float) -> int:
    return max(1, math.ceil(wait - _EPSILON))


class FloodControl:
    """Decides, send by send, whether Telegram would let the bot through or answer 429."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._private_chats: dict[tuple[int, int], _TokenBucket] = {}
        self._group_chats: dict[tuple[int, int], _RollingWindow] = {}
        self._bots: dict[int, _TokenBucket] = {}
        self._paid_bots: dict[int, _TokenBucket] = {}
        self._sweep_at = _SWEEP_FLOOR

    def check(
        self, *, bot_id: int, chat_id: int | None, chat_kind: str | None, paid: bool = False
    ) -> None:
        """Record one send or edit, or raise ApiError 429 if a rate it counts toward is spent.

        `chat_kind` None (an inline message) counts toward the bot-wide rate only. A paid
        broadcast counts toward the paid rate instead of the bot-wide one.
        """
        limits = self.limits
        if limits.lifted:
            return
        now = self._clock.now()
        if chat_id is None or chat_kind is None:
            self._check_bot(bot_id, paid, now)
            return
        if chat_kind == "private":
            chat: _TokenBucket | _RollingWindow = self._check_private(bot_id, chat_id, now)
        elif chat_kind in GROUP_KINDS:
            chat = self._check_group(bot_id, chat_id, now)
        else:
            raise ValueError(f"unknown chat kind {chat_kind!r}")
        # The chat is charged only once the bot-wide rate has let the send through too.
        self._check_bot(bot_id, paid, now)
        chat.record(now)

    def _check_private(self, bot_id: int, chat_id: int, now: float) -> _TokenBucket:
        limits = self.limits
        bucket = self._private_chats.get((bot_id, chat_id))
        if bucket is None:
            self._sweep_if_due(now)
            bucket = self._private_chats[bot_id, chat_id] = _TokenBucket(
                limits.per_chat_burst, now
            )
        bucket.refuse_if_blocked(now)
        if wait := bucket.wait(limits.per_chat_per_second, limits.per_chat_burst, now):
            bucket.refuse(wait, now)
        return bucket

    def _check_group(self, bot_id: int, chat_id: int, now: float) -> _RollingWindow:
        window = self._group_chats.get((bot_id, chat_id))
        if window is None:
            self._sweep_if_due(now)
            window = self._group_chats[bot_id, chat_id] = _RollingWindow()
        window.refuse_if_blocked(now)
        if wait := window.wait(self.limits.per_group_per_minute, GROUP_WINDOW_SECONDS, now):
            window.refuse(wait, now)
        return window

    def _check_bot(self, bot_id: int, paid: bool, now: float) -> None:
        rate = self.limits.paid_per_second if paid else self.limits.bot_per_second
        buckets = self._paid_bots if paid else self._bots
        bucket = buckets.get(bot_id)
        if bucket is None:
            bucket = buckets[bot_id] = _TokenBucket(rate, now)
        bucket.refuse_if_blocked(now)
        # A second's worth of sends may go at once: Telegram counts per second, not evenly.
        if wait := bucket.wait(rate, rate, now):
            bucket.refuse(wait, now)
        bucket.record(now)

    def _sweep_if_due(self, now: float) -> None:
        """Forget chats whose state equals a fresh one, so memory follows the active chats."""
        if len(self._private_chats) + len(self._group_chats) < self._sweep_at:
            return
        limits = self.limits
        rate, burst = limits.per_chat_per_second, limits.per_chat_burst
        for key in [k for k, b in self._private_chats.items() if b.idle(rate, burst, now)]:
            del self._private_chats[key]
        size = limits.per_group_per_minute
        for key in [
            k for k, w in self._group_chats.items() if w.idle(size, GROUP_WINDOW_SECONDS, now)
        ]:
            del self._group_chats[key]
        # Doubling the threshold keeps the sweeps O(1) amortized per new chat.
        self._sweep_at = max(_SWEEP_FLOOR, 2 * (len(self._private_chats) + len(self._group_chats)))
