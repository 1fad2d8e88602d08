"""Start-up niceties: what Telegram shows about the bot but the bot runs without (the command
menus), set in the background, retried with a backoff and a bound, and never fatal.

Only getMe may stop the bot at start (a token Telegram refuses). A nicety that fails for a
passing reason (5xx, a timeout, an answer the client cannot read, a 429) is tried again, at
most `RETRIES.tries` times; one Telegram refuses for good (a bad request) is logged and left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from bot.runtime.background import BackgroundLoop
from bot.runtime.backoff import Backoff
from bot.telegram.errors import Failure, classify, retry_after_seconds

log = logging.getLogger(__name__)

RETRIES = Backoff(first=2.0, longest=120.0, tries=8)
_PASSING = frozenset({Failure.TRANSIENT, Failure.FLOOD})


@dataclass(frozen=True)
class Nicety:
    """One call that makes the bot nicer to use, named for the log."""

    name: str
    call: Callable[[Bot], Awaitable[object]]


def describe(error: Exception) -> str:
    """A failure in one line: Telegram's text, or the kind of unexpected answer."""
    if isinstance(error, TelegramError):
        return error.message
    return f"{type(error).__name__}: {error}"


class Niceties(BackgroundLoop):
    """Runs each nicety in the background until it succeeds, is refused, or runs out of tries."""

    name = "niceties"

    def __init__(
        self, bot: Bot, niceties: Sequence[Nicety], *, retries: Backoff = RETRIES
    ) -> None:
        super().__init__(idle_seconds=None)
        self._bot = bot
        self._niceties = tuple(niceties)
        self._retries = retries
        self.failed: list[str] = []

    async def _round(self) -> None:
        """All of them at once, each with its own retries; one round is all there is."""
        await asyncio.gather(*(self._set(nicety) for nicety in self._niceties))

    async def _set(self, nicety: Nicety) -> None:
        failures = 0
        while True:
            try:
                await nicety.call(self._bot)
            except Exception as error:  # a nicety must never take the bot down
                failures += 1
                failure = classify(error) if isinstance(error, TelegramError) else None
                if failure is not None and failure not in _PASSING:
                    log.warning("%s not set: %s", nicety.name, describe(error))
                    self.failed.append(nicety.name)
                    return
                if self._retries.gives_up(failures):
                    log.warning(
                        "%s not set after %d tries (%s); giving up until the next start",
                        nicety.name,
                        failures,
                        describe(error),
                    )
                    self.failed.append(nicety.name)
                    return
                wait = self._retries.wait(failures)
                if isinstance(error, TelegramError):
                    wait = max(wait, retry_after_seconds(error) or 0.0)
                if failures == 1:
                    log.warning(
                        "%s not set (%s); trying again in the background",
                        nicety.name,
                        describe(error),
                    )
                await asyncio.sleep(wait)
            else:
                if failures:
                    log.info("%s set after %d failed tries", nicety.name, failures)
                return
