"""Our own flood control in front of every send and edit, so Telegram never has to say 429.

python-telegram-bot hands every API call to this limiter. Calls that post into a chat (send*,
copy*, forward*, edit*) wait for their turn: each private chat at least `private_interval` apart,
each group or channel at most `group_per_minute` in any rolling minute (poll edits included),
and the whole bot at most `per_second` (or `paid_per_second` for paid broadcasts). A 429 that
slips through pauses that chat, or the whole bot when the chat's own pace cannot explain it,
and the call is retried: nothing is dropped.

A process alone keeps the turns in memory. While other workers share the database
(``bot.runtime.workers`` switches the mode) every turn comes from there
(``bot.telegram.shared_pace``): bot-wide instants reserved in blocks, each chat taken for the
instant its message goes out. A group then gets one message every 60 / `group_per_minute` seconds,
so never more than `group_per_minute` in any minute whichever workers send. Limited calls also pass
a gate the workers hold closed while this worker joins the others and whenever its heartbeat is
late.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram.shared_pace import BOT_LANE, PAID_LANE, SharedPace
from storage import send_budget

log = logging.getLogger(__name__)

_LIMITED_PREFIXES = ("send", "copy", "forward", "edit")
_WINDOW = 60.0
# After a failed database turn (the database is briefly away) a send tries again this much later.
_RETRY_SHARED_AFTER = 0.5

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]
Chat = int | str


@dataclass(frozen=True)
class SendRates:
    per_second: float = 25.0
    private_interval: float = 1.0
    group_per_minute: int = 20
    paid_per_second: float = 1000.0
    max_retries: int = 5

    @property
    def group_spacing(self) -> float:
        """Seconds between two messages to one group while workers share the limits."""
        return _WINDOW / self.group_per_minute


class _Lane:
    """A FIFO of reserved instants at a fixed pace: reserving returns when the caller may go."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_free = 0.0
        self.last_sent = -math.inf

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
        self._private_next: dict[Chat, float] = {}
        self._group_sends: dict[Chat, deque[float]] = {}
        self._paused_until: dict[Chat, float] = {}
        self._bot_paused_until = 0.0
        self._sweep_at = 1024
        self.retries_after_429 = 0
        self._shared: SharedPace | None = None
        # Per chat: its lock and how many sends hold or wait for it.
        self._chat_locks: dict[Chat, tuple[asyncio.Lock, int]] = {}
        # Bumped at every switch: a turn taken under the other mode does not count.
        self._mode = 0
        # A limiter on its own is always open; bot.runtime.workers closes and opens it.
        self._open_until = math.inf
        self._opened = asyncio.Event()
        self._opened.set()

    @property
    def shared(self) -> bool:
        """Whether turns come from the database (other workers are alive)."""
        return self._shared is not None

    def close(self) -> None:
        """No limited call starts until `open_until` is called."""
        self._open_until = -math.inf
        self._opened.clear()

    def open_until(self, deadline: float) -> None:
        """Limited calls may start until `deadline` (this limiter's clock)."""
        self._open_until = deadline
        self._opened.set()

    def is_open(self) -> bool:
        return self._clock() < self._open_until

    async def share(self, session: AsyncSession, pace: SharedPace) -> None:
        """Take every turn from the database from now on. What this process sent alone lately
        is held there first, so the other workers' turns come after it.

        Closes the gate: the caller opens it again once `session` is committed.
        """
        # No turn of either kind until the hand-over is in the database.
        self.close()
        self._shared = pace
        self._mode += 1
        database_now = await send_budget.clock(session)
        local_now = self._clock()
        pace.observe(local_now, database_now)
        shift = database_now - local_now
        lanes = {
            BOT_LANE: max(self._bot.last_sent + self._bot.interval, self._bot_paused_until),
            PAID_LANE: max(self._paid.last_sent + self._paid.interval, self._bot_paused_until),
        }
        await send_budget.hold(
            session,
            lanes={lane: at + shift for lane, at in lanes.items() if at > local_now},
            chats={str(chat): at + shift for chat, at in self._chat_holds(local_now).items()},
        )

    async def go_alone(self, session: AsyncSession) -> None:
        """Keep the turns in memory again (no other worker is alive), starting from what the
        database holds.

        Closes the gate: the caller opens it again once `session` is committed.
        """
        self.close()
        self._shared = None
        self._mode += 1
        found = await send_budget.holds(session, within=_WINDOW)
        local_now = self._clock()
        shift = local_now - found.now
        for name, lane in ((BOT_LANE, self._bot), (PAID_LANE, self._paid)):
            if name in found.lanes:
                lane.next_free = max(lane.next_free, found.lanes[name] + shift)
        for chat, at in found.chats.items():
            self._hold_in_memory(_chat_key(chat), at + shift, local_now)

    async def initialize(self) -> None:
        """Nothing to open: the limiter's state lives in memory or in the workers' database."""

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
        chat_id: Chat | None = data.get("chat_id")
        paid = bool(data.get("allow_paid_broadcast"))
        for attempt in range(self.rates.max_retries + 1):
            await self.wait_turn(chat_id, paid=paid)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == self.rates.max_retries:
                    raise
                self.retries_after_429 += 1
                await self.pause(chat_id, seconds_of(error.retry_after))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def wait_turn(self, chat_id: Chat | None, *, paid: bool = False) -> None:
        """Returns when a message to `chat_id` may go out without breaking any rate."""
        chat = None if chat_id is None else _chat_key(chat_id)
        while True:
            while not self.is_open():
                self._opened.clear()
                await self._opened.wait()
            mode, pace = self._mode, self._shared
            if pace is None:
                went = await self._memory_turn(chat, paid=paid)
            else:
                try:
                    went = await self._shared_turn(pace, chat, paid=paid)
                except (SQLAlchemyError, OSError) as error:
                    log.warning("send limiter: no turn from the database (%s); retrying", error)
                    await asyncio.sleep(_RETRY_SHARED_AFTER)
                    continue
            # A turn taken under the other mode, or after the gate closed, does not count.
            if went and mode == self._mode and self.is_open():
                self._lane(paid).last_sent = self._clock()
                return

    async def _memory_turn(self, chat: Chat | None, *, paid: bool) -> bool:
        """This process's own turn; False when it only waited for the chat and must look again."""
        now = self._clock()
        if chat is not None and (ready := self._chat_ready(chat)) > now:
            await asyncio.sleep(ready - now)
            return False
        start = self._lane(paid).reserve(max(now, self._bot_paused_until))
        if chat is not None:
            self._chat_took(chat, start)
        if start > now:
            await asyncio.sleep(start - now)
        return True

    async def _shared_turn(self, pace: SharedPace, chat: Chat | None, *, paid: bool) -> bool:
        """A turn from the database; False when it has to be tried again."""
        if chat is None:
            return await self._shared_instant(pace, None, paid=paid)
        # One send per chat at a time from this worker: the others wait here, not in the database.
        lock, waiting = self._chat_locks.get(chat) or (asyncio.Lock(), 0)
        self._chat_locks[chat] = (lock, waiting + 1)
        try:
            async with lock:
                return await self._shared_instant(pace, chat, paid=paid)
        finally:
            lock, waiting = self._chat_locks[chat]
            if waiting == 1:
                del self._chat_locks[chat]
            else:
                self._chat_locks[chat] = (lock, waiting - 1)

    async def _shared_instant(self, pace: SharedPace, chat: Chat | None, *, paid: bool) -> bool:
        held: float | None = None
        while True:
            instant = await pace.instant(paid=paid)
            if chat is not None:
                busy_until = await pace.take_chat(
                    str(chat), instant, self._spacing(chat), instead_of=held
                )
                if busy_until is not None:
                    pace.give_back(instant, paid=paid)
                    await self._sleep_until(pace.to_local(busy_until))
                    return False
                held = instant
            start = pace.to_local(instant)
            await self._sleep_until(start)
            # Later, the instant could crowd another worker's; the chat's turn moves on.
            if self._clock() - start <= pace.grace(paid=paid):
                break
        if chat is not None:
            # This worker's own record, for deciding what a 429 pauses.
            self._chat_took(chat, start)
        return True

    async def _sleep_until(self, at: float) -> None:
        if (wait := at - self._clock()) > 0:
            await asyncio.sleep(wait)

    async def pause(self, chat_id: Chat | None, seconds: float) -> None:
        """After a 429: that chat waits `seconds`, or everything does if its pace was ours."""
        chat = None if chat_id is None else _chat_key(chat_id)
        until = self._clock() + seconds
        everything = chat is None or not self._chat_was_busy(chat)
        if chat is not None and not everything:
            self._paused_until[chat] = max(self._paused_until.get(chat, 0.0), until)
            log.warning("flood control: chat %s paused for %.0fs", chat, seconds)
        else:
            self._bot_paused_until = max(self._bot_paused_until, until)
            log.warning("flood control: all sends paused for %.0fs", seconds)
        if (pace := self._shared) is None:
            return
        try:
            if chat is not None and not everything:
                await pace.hold_chat(str(chat), seconds)
            else:
                await pace.hold_everything(seconds)
        except (SQLAlchemyError, OSError) as error:
            log.warning("flood control: the pause could not reach the other workers (%s)", error)

    def _lane(self, paid: bool) -> _Lane:
        return self._paid if paid else self._bot

    def _spacing(self, chat: Chat) -> float:
        return self.rates.private_interval if _is_private(chat) else self.rates.group_spacing

    def _chat_ready(self, chat: Chat) -> float:
        """When the chat may next get a message from this process."""
        ready = self._paused_until.get(chat, 0.0)
        if _is_private(chat):
            return max(ready, self._private_next.get(chat, 0.0))
        sends = self._group_sends.get(chat)
        if not sends:
            return ready
        # In order, and at most group_per_minute in any minute.
        ready = max(ready, sends[-1])
        if len(sends) >= self.rates.group_per_minute:
            ready = max(ready, sends[-self.rates.group_per_minute] + _WINDOW)
        return ready

    def _chat_took(self, chat: Chat, start: float) -> None:
        """Records a message to the chat at `start`."""
        self._maybe_sweep(start)
        if _is_private(chat):
            self._private_next[chat] = start + self.rates.private_interval
            return
        sends = self._group_sends.setdefault(chat, deque())
        sends.append(start)
        while len(sends) > self.rates.group_per_minute:
            sends.popleft()

    def _chat_holds(self, now: float) -> dict[Chat, float]:
        """For every chat this process sent to lately, the first instant from which messages
        one `_spacing` apart keep every limit, counting the messages already sent."""
        holds: dict[Chat, float] = {}
        for chat, at in self._private_next.items():
            if at > now:
                holds[chat] = at
        per_minute, spacing = self.rates.group_per_minute, self.rates.group_spacing
        for chat, sends in self._group_sends.items():
            # The k-th message from here goes `k * spacing` after the first and must come a
            # minute after the message `per_minute` places before it.
            first = max(
                at + _WINDOW - (index + per_minute - len(sends)) * spacing
                for index, at in enumerate(sends)
            )
            if first > now:
                holds[chat] = first
        for chat, until in self._paused_until.items():
            if until > now:
                holds[chat] = max(holds.get(chat, until), until)
        return holds

    def _hold_in_memory(self, chat: Chat, free_at: float, now: float) -> None:
        """The chat is not free before `free_at` (from the database): remembered as the most
        messages that shared pacing could have sent it before then."""
        if _is_private(chat):
            if free_at > now:
                self._private_next[chat] = max(self._private_next.get(chat, 0.0), free_at)
            return
        spacing, per_minute = self.rates.group_spacing, self.rates.group_per_minute
        supposed = [free_at - n * spacing for n in range(1, per_minute + 1)]
        sends = sorted(
            [*self._group_sends.get(chat, ()), *(at for at in supposed if at > now - _WINDOW)]
        )
        self._group_sends[chat] = deque(sends[-per_minute:])

    def _chat_was_busy(self, chat: Chat) -> bool:
        """Whether the chat had other sends lately, so its own limit may explain a 429."""
        now = self._clock()
        if _is_private(chat):
            return self._private_next.get(chat, 0.0) > now - self.rates.private_interval
        sends = self._group_sends.get(chat, ())
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


def _is_private(chat: Chat) -> bool:
    # Private chats have positive ids; groups, supergroups and channels negative or @usernames.
    return isinstance(chat, int) and chat > 0


def _chat_key(chat_id: Chat) -> Chat:
    """One key per chat, whether its id came as a number or as text ("-100...", "@name")."""
    if isinstance(chat_id, int):
        return chat_id
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def seconds_of(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
