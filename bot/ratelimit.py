"""Our own flood control in front of every send and edit, so Telegram never has to say 429.

python-telegram-bot hands every API call to this limiter. Calls that post into a chat (send*,
copy*, forward*, edit*) wait for their turn: each private chat at least `private_interval` apart,
each group or channel at most `group_per_minute` in any rolling minute (poll edits included),
and the whole bot at most `per_second` (or `paid_per_second` for paid broadcasts). A 429 that
slips through pauses that chat, or the whole bot when the chat's own pace cannot explain it,
and the call is retried: nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

_LIMITED_PREFIXES = ("send", "copy", "forward", "edit")
_WINDOW = 60.0

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True)
class SendRates:
    per_second: float = 25.0
    private_interval: float = 1.0
    group_per_minute: int = 20
    paid_per_second: float = 1000.0
    max_retries: int = 5


class _Lane:
    """A FIFO of reserved instants at a fixed pace: reserving returns when the caller may go."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_free = 0.0

    def reserve(self, now: float) -> float:
        start = max(now, self.next_free)
        self.next_free = start + self.interval
        return start


class SendLimiter(BaseRateLimiter[None]):
    def __init__(
        self,
        rates: SendRates | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rates = rates or SendRates()
        self._clock = clock
        self._bot = _Lane(self.rates.per_second)
        self._paid = _Lane(self.rates.paid_per_second)
        self._private_next: dict[int | str, float] = {}
        self._group_sends: dict[int | str, deque[float]] = {}
        self._paused_until: dict[int | str, float] = {}
        self._bot_paused_until = 0.0
        self._sweep_at = 1024
        self.retries_after_429 = 0

    def set_share(self, share: float) -> None:
        """Take only `share` of the bot-wide rates (1/N when N processes send for one bot)."""
        share = min(1.0, max(share, 1e-3))
        self._bot.interval = 1.0 / (self.rates.per_second * share)
        self._paid.interval = 1.0 / (self.rates.paid_per_second * share)

    async def initialize(self) -> None:
        """Nothing to open: the limiter's state lives in memory."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(  # noqa: PLR0917  # the signature is python-telegram-bot's
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> ApiResult:
        del rate_limit_args
        if not endpoint.startswith(_LIMITED_PREFIXES):
            return await callback(*args, **kwargs)
        chat_id: int | str | None = data.get("chat_id")
        paid = bool(data.get("allow_paid_broadcast"))
        for attempt in range(self.rates.max_retries + 1):
            await self.wait_turn(chat_id, paid=paid)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == self.rates.max_retries:
                    raise
                self.retries_after_429 += 1
                self.pause(chat_id, seconds_of(error.retry_after))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def wait_turn(self, chat_id: int | str | None, *, paid: bool = False) -> None:
        """Returns when a message to `chat_id` may go out without breaking any rate."""
        now = self._clock()
        paused = self._paused_until.get(chat_id, 0.0) if chat_id is not None else 0.0
        chat_ready = max(now, self._chat_slot(chat_id, now), paused)
        if chat_ready > now:
            await asyncio.sleep(chat_ready - now)
            now = self._clock()
        lane = self._paid if paid else self._bot
        start = lane.reserve(max(now, self._bot_paused_until))
        if start > now:
            await asyncio.sleep(start - now)

    def pause(self, chat_id: int | str | None, seconds: float) -> None:
        """After a 429: that chat waits `seconds`, or everything does if its pace was ours."""
        until = self._clock() + seconds
        if chat_id is not None and self._chat_was_busy(chat_id):
            self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0.0), until)
            log.warning("flood control: chat %s paused for %.0fs", chat_id, seconds)
        else:
            self._bot_paused_until = max(self._bot_paused_until, until)
            log.warning("flood control: all sends paused for %.0fs", seconds)

    def _chat_slot(self, chat_id: int | str | None, now: float) -> float:
        """Reserves this chat's next slot and returns when it starts."""
        if chat_id is None:
            return now
        self._maybe_sweep(now)
        if _is_private(chat_id):
            start = max(now, self._private_next.get(chat_id, 0.0))
            self._private_next[chat_id] = start + self.rates.private_interval
            return start
        sends = self._group_sends.setdefault(chat_id, deque())
        start = now
        if len(sends) >= self.rates.group_per_minute:
            start = max(now, sends[-self.rates.group_per_minute] + _WINDOW)
        sends.append(start)
        while len(sends) > self.rates.group_per_minute:
            sends.popleft()
        return start

    def _chat_was_busy(self, chat_id: int | str) -> bool:
        """Whether the chat had other sends lately, so its own limit may explain a 429."""
        now = self._clock()
        if _is_private(chat_id):
            return self._private_next.get(chat_id, 0.0) > now - self.rates.private_interval
        sends = self._group_sends.get(chat_id, ())
        return sum(1 for at in sends if at > now - _WINDOW) > 1

    def _maybe_sweep(self, now: float) -> None:
        """Forgets chats whose slots are all in the past, so memory follows the active chats."""
        if len(self._private_next) + len(self._group_sends) < self._sweep_at:
            return
        self._private_next = {k: v for k, v in self._private_next.items() if v > now}
        self._group_sends = {
            k: v for k, v in self._group_sends.items() if v and v[-1] > now - _WINDOW
        }
        self._paused_until = {k: v for k, v in self._paused_until.items() if v > now}
        self._sweep_at = max(1024, 2 * (len(self._private_next) + len(self._group_sends)))


def _is_private(chat_id: int | str) -> bool:
    # Private chats have positive ids; groups, supergroups and channels negative or @usernames.
    return isinstance(chat_id, int) and chat_id > 0


def seconds_of(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
