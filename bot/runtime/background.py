"""Background loops: the one start, stop, wake and round every long-running service is built on.

A service runs its rounds in a task of its own from `start()` to `stop()`. Each round says how
long to wait before the next; `wake()` ends the wait at once. A round that fails is one log line
(in the service's own module's log) and never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

# A loop that must never spin waits at least this long, even after a round that asks for no pause.
MIN_SLEEP_SECONDS = 0.05


class BackgroundLoop:
    """Runs `_round` from `start()` until `stop()`; `wake()` starts the next round at once.

    `_begin` runs inside `start()` and says how long to wait before the first round. `_round`
    returns how long to wait before the next one (None: until woken, 0: at once). A round that
    fails is logged with `failure` and the next waits `idle_seconds` (None: until woken).

    On `stop()` the round under way is cancelled, unless the loop `finishes_on_stop`: then it is
    woken and waited for while it runs rounds until one ends with nothing handed to it since it
    began. `_end` runs last, once the loop has ended.
    """

    name = "loop"
    failure = "a round failed; trying again later"
    finishes_on_stop = False

    def __init__(self, *, idle_seconds: float | None) -> None:
        self._idle_seconds = idle_seconds
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()
        self._stopping = False
        # Lines about this loop come from the module of the service it runs.
        self._log = logging.getLogger(type(self).__module__)

    @property
    def running(self) -> bool:
        """Started, and not told to stop."""
        return self._task is not None and not self._stopping

    @property
    def stopping(self) -> bool:
        """Told to stop, and not started again since."""
        return self._stopping

    def wake(self) -> None:
        """End the wait: the next round starts now (or as soon as the one under way ends)."""
        self._woken.set()

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        first_wait = await self._begin()
        self._task = asyncio.create_task(self._run(first_wait), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self.finishes_on_stop:
            self.wake()
            await task
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._end()

    async def _begin(self) -> float | None:
        """What `start()` does before the loop runs; returns the wait before the first round."""
        return 0.0

    async def _round(self) -> float | None:
        """One round of work; returns the seconds to wait before the next (None: until woken)."""
        raise NotImplementedError

    async def _end(self) -> None:
        """What `stop()` does once the loop has ended."""

    async def _run(self, wait: float | None) -> None:
        while True:
            if wait is None or wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), wait)
            self._woken.clear()
            try:
                wait = await self._round()
            except Exception:
                self._log.exception("%s: %s", self.name, self.failure)
                wait = self._idle_seconds
            # Told to stop, and nothing woke the loop since the round began: done.
            if self._stopping and not self._woken.is_set():
                return


class BatchingLoop(BackgroundLoop):
    """A loop that commits work handed to it in batches (group commit).

    The first piece of work handed in wakes it; the round waits `gather_seconds` for company
    (not once stopping), then `_commit`s what was handed in. Stopping commits what was handed in
    before it, and the first round waits for the first piece of work.
    """

    finishes_on_stop = True

    def __init__(self, *, gather_seconds: float) -> None:
        super().__init__(idle_seconds=None)
        self._gather = gather_seconds

    async def _begin(self) -> None:
        return None

    async def _round(self) -> None:
        if self._gather > 0 and not self.stopping:
            await asyncio.sleep(self._gather)
        await self._commit()

    async def _commit(self) -> None:
        """Commit what was handed in since the last round."""
        raise NotImplementedError
