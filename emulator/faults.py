"""Faults a test injects into the emulator: 5xx answers, requests held past the client's timeout,
answers with an unexpected result, updates delivered a second time, and update ids starting over.

A fault plan answers the next `count` matching requests (or every matching request for `seconds`)
instead of the real method: with Telegram's 5xx envelope, by holding the request without doing
it until the client has given up, or at once with `"ok": true` and a result of the test's
choosing (`null` for an edit, `[]` for a getUpdates that never waits). Nothing the method would
have done happens. `restart_update_ids` plays a Bot API server that restarted and numbers its
updates from the start again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from emulator.errors import ApiError

if TYPE_CHECKING:
    from emulator.state import BotAccount, World

TIMEOUT: Literal["timeout"] = "timeout"
# Answered "ok" at once with the plan's result, whatever the method would have returned.
RESULT: Literal["result"] = "result"
FaultKind = int | Literal["timeout", "result"]
# Longer than python-telegram-bot's default 5 s read timeout, so the client gives up first.
DEFAULT_HOLD = 8.0
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class FaultPlan:
    """Answer matching requests with `status` (or hold them, or give `result`) `count` times or
    until `until`."""

    status: FaultKind
    methods: frozenset[str] | None
    count: int | None
    until: float | None
    hold: float
    result: object = None
    answered: int = 0

    @property
    def answers_ok(self) -> bool:
        """The request is answered `"ok": true` with `result` instead of an error."""
        return self.status == RESULT

    def matches(self, method: str, now: float) -> bool:
        if self.methods is not None and method.lower() not in self.methods:
            return False
        if self.count is not None:
            return self.answered < self.count
        return self.until is not None and now < self.until


@dataclass
class Faults:
    """The plans in force, oldest first, and how many requests they answered in all."""

    plans: list[FaultPlan] = field(default_factory=list)
    injected: int = 0

    def add(
        self,
        status: FaultKind,
        *,
        methods: set[str] | frozenset[str] | None = None,
        count: int | None = None,
        seconds: float | None = None,
        hold: float = DEFAULT_HOLD,
        result: object = None,
    ) -> FaultPlan:
        if (count is None) == (seconds is None):
            raise ValueError("give either count=N or seconds=S")
        if status not in {TIMEOUT, RESULT} and not (
            isinstance(status, int) and 500 <= status <= 599
        ):
            raise ValueError(f"a fault answers 5xx, 'timeout' or 'result', not {status!r}")
        until = asyncio.get_running_loop().time() + seconds if seconds is not None else None
        plan = FaultPlan(
            status=status,
            methods=frozenset(m.lower() for m in methods) if methods is not None else None,
            count=count,
            until=until,
            hold=hold,
            result=result,
        )
        self.plans.append(plan)
        return plan

    def take(self, method: str) -> FaultPlan | None:
        """The plan that answers this request (counted), or None to let the method run."""
        now = asyncio.get_running_loop().time()
        self.plans = [p for p in self.plans if p.count is None or p.answered < p.count]
        self.plans = [p for p in self.plans if p.until is None or now < p.until]
        for plan in self.plans:
            if plan.matches(method, now):
                plan.answered += 1
                self.injected += 1
                return plan
        return None

    def clear(self) -> None:
        self.plans.clear()


async def answer_with(plan: FaultPlan, world: World) -> ApiError:
    """The error to answer with; a timeout first holds the request (until the emulator stops)."""
    if plan.status == TIMEOUT:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + plan.hold
        while not world.closing and (remaining := deadline - loop.time()) > 0:
            await world.signal.wait(remaining)
        return ApiError(504, "Gateway Timeout")
    if not isinstance(plan.status, int):
        raise TypeError(f"a {plan.status!r} fault answers ok, not with an error")
    return ApiError(plan.status, _REASONS.get(plan.status, "Server Error"))


def restart_update_ids(bot: BotAccount, first: int) -> None:
    """As a Bot API server that restarted: the next update gets id `first` again, and an
    offset (from before the restart, say) confirms only updates handed out since."""
    bot.last_update_id = first - 1
    bot.handed_out_since_restart = first - 1
