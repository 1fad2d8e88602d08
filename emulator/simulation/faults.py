"""Faults a test asks of the emulator: injected 5xx answers, held requests and odd results (the
plan itself is emulator.faults), updates delivered a second time, and update ids starting over.
"""

from __future__ import annotations

from emulator.faults import DEFAULT_HOLD, FaultKind, FaultPlan, restart_update_ids
from emulator.simulation.base import EmulatorBase
from emulator.state import FIRST_UPDATE_ID, BotAccount


class Faults(EmulatorBase):
    """A Bot API that fails, repeats itself or starts over, when a test says so."""

    def inject_faults(
        self,
        status: FaultKind = 502,
        *,
        methods: set[str] | None = None,
        count: int | None = None,
        seconds: float | None = None,
        hold: float = DEFAULT_HOLD,
        result: object = None,
    ) -> FaultPlan:
        """Answer the next `count` requests (or all for `seconds`) with a 5xx, or hold them.

        `methods` limits the fault to those Bot API methods; "timeout" holds each request for
        `hold` seconds without doing it, so the client times out first; "result" answers
        `"ok": true` with `result` at once (`None`: `null`; `[]` for a getUpdates that never
        waits), without doing the method.
        """
        return self.world.faults.add(
            status, methods=methods, count=count, seconds=seconds, hold=hold, result=result
        )

    def clear_faults(self) -> None:
        self.world.faults.clear()

    @property
    def faults_injected(self) -> int:
        """How many requests injected faults have answered so far."""
        return self.world.faults.injected

    def restart_update_ids(
        self, first: int = FIRST_UPDATE_ID, *, bot: BotAccount | None = None
    ) -> int:
        """Number the bot's next updates from `first` again (default: the very first id it was
        given), as a Bot API server does after a restart; returns the next id."""
        restart_update_ids(self._the_bot(bot), first)
        return first

    def update_ids(self, bot: BotAccount | None = None) -> list[int]:
        """The ids of the bot's recent updates, oldest first (delivered or not)."""
        return [update.update_id for update in self._the_bot(bot).history]

    def redeliver(self, update_id: int | None = None, *, bot: BotAccount | None = None) -> int:
        """Deliver an update again with its same update_id (default: the latest); returns the id.

        As Telegram does when a bot restarts before confirming its offset.
        """
        target = self._the_bot(bot)
        if not target.history:
            raise LookupError("the bot has had no updates yet")
        wanted = target.history[-1].update_id if update_id is None else update_id
        update = next((u for u in target.history if u.update_id == wanted), None)
        if update is None:
            raise LookupError(f"no recent update {wanted}")
        target.replays.append(update)
        target.wake()
        self.world.signal.notify()
        return wanted
