"""python-telegram-bot's bot as this bot runs it: it remembers the callback queries it answered,
and pauses between polls when getUpdates answers at once with nothing (bot/telegram/long_poll.py).

The error handler asks `answered` so that a tap the handler had already answered before it
failed is never answered a second time (Telegram refuses the second answer anyway).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest

from bot.telegram.long_poll import PollPause

# Callback query ids remembered; a query older than these expired long ago (~15 s).
ANSWERED_KEPT = 10_000


class NewsBot(ExtBot[None]):
    """ExtBot with the answered-query memory and the pause between empty polls."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        base_file_url: str,
        request: BaseRequest,
        get_updates_request: BaseRequest,
        rate_limiter: BaseRateLimiter[None],
    ) -> None:
        super().__init__(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=request,
            get_updates_request=get_updates_request,
            rate_limiter=rate_limiter,
        )
        # python-telegram-bot freezes its bot after __init__; these are set while it is not.
        with self._unfrozen():
            self._answered: dict[str, None] = {}
            self.poll_pause = PollPause()

    def answered(self, callback_query_id: str) -> bool:
        """Whether this bot answered the callback query (and Telegram accepted the answer)."""
        return callback_query_id in self._answered

    async def answer_callback_query(
        self,
        callback_query_id: str,
        text: str | None = None,
        show_alert: bool | None = None,
        url: str | None = None,
        cache_time: TimePeriod | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
        rate_limit_args: None = None,
    ) -> bool:
        done = await super().answer_callback_query(
            callback_query_id,
            text,
            show_alert,
            url,
            cache_time,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
            rate_limit_args=rate_limit_args,
        )
        self._answered[callback_query_id] = None
        if len(self._answered) > ANSWERED_KEPT:
            del self._answered[next(iter(self._answered))]
        return done

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        started = time.monotonic()
        updates = await super().get_updates(
            offset,
            limit,
            timeout,
            allowed_updates,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        await self.poll_pause.after_poll(
            updates=len(updates), waited=time.monotonic() - started, timeout=_seconds(timeout)
        )
        return updates


def _seconds(period: TimePeriod | None) -> float:
    if isinstance(period, timedelta):
        return period.total_seconds()
    return float(period or 0)
