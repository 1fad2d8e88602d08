"""python-telegram-bot's bot as this bot runs it: it remembers the callback queries it answered,
pauses between polls when getUpdates answers at once with nothing (bot/telegram/long_poll.py),
and hands the updates its express lane takes (bot/runtime/express.py) to it as JSON, parsing
only the others into python-telegram-bot's objects.

The error handler asks `answered` so that a tap the handler had already answered before it
failed is never answered a second time (Telegram refuses the second answer anyway).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import cast

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest

from bot.telegram.long_poll import PollPause

log = logging.getLogger(__name__)

# Callback query ids remembered; a query older than these expired long ago (~15 s).
ANSWERED_KEPT = 10_000

# Takes an update as JSON when it is the express lane's (True), or leaves it (False).
ExpressTaker = Callable[[JSONDict], bool]


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
            self._express: ExpressTaker | None = None
            # The offset after the last update fetched, whichever way it went.
            self._next_offset: int | None = None

    def hand_express_updates_to(self, taker: ExpressTaker) -> None:
        """From now on, every update fetched is offered to `taker` first, as JSON."""
        with self._unfrozen():
            self._express = taker

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
        self.note_answered(callback_query_id)
        return done

    def note_answered(self, callback_query_id: str) -> None:
        """Telegram accepted an answer to this callback query (made here or by a lean call)."""
        self._answered[callback_query_id] = None
        if len(self._answered) > ANSWERED_KEPT:
            del self._answered[next(iter(self._answered))]

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
        if self._next_offset is not None and (offset is None or offset >= 0):
            # python-telegram-bot's Updater counts only the updates it was given: the express
            # lane's would be fetched again.
            offset = max(offset or 0, self._next_offset)
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._request[0].read_timeout
        # The long poll's wait comes on top of the read timeout, as python-telegram-bot adds it.
        waiting = (read_timeout or 0) + _seconds(timeout)
        fetched = cast(
            "list[JSONDict]",
            await self._post(
                "getUpdates",
                data,
                read_timeout=waiting,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
                api_kwargs=api_kwargs,
            ),
        )
        if fetched:
            self._next_offset = max(self._next_offset or 0, int(fetched[-1]["update_id"]) + 1)
        updates = tuple(
            update
            for update in (self._parse(raw) for raw in fetched if not self._taken_express(raw))
            if update is not None
        )
        await self.poll_pause.after_poll(
            updates=len(fetched), waited=time.monotonic() - started, timeout=_seconds(timeout)
        )
        return updates

    def _taken_express(self, raw: JSONDict) -> bool:
        return self._express is not None and self._express(raw)

    def _parse(self, raw: JSONDict) -> Update | None:
        """The update as python-telegram-bot's object; one that cannot be parsed is logged and
        dropped, not fetched again and again."""
        try:
            update = Update.de_json(raw, self)
        except Exception:
            log.exception("update %s could not be read; dropped", raw.get("update_id"))
            return None
        self.insert_callback_data(update)
        return update


def _seconds(period: TimePeriod | None) -> float:
    if isinstance(period, timedelta):
        return period.total_seconds()
    return float(period or 0)
