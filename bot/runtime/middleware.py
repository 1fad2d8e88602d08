"""What runs for every update before any handler: a repeat stops, and each update is logged.

Two python-telegram-bot handler groups below the handlers' own (group 0), so every update passes
both first: `skip_repeats` asks the update ledger whether the update was taken on before and
stops a repeat there; `log_update` writes one line per update. `bot/app.py` registers them at the
head of its ordered list.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.runtime.update_ledger import update_digest
from bot.services import BotContext

log = logging.getLogger(__name__)

# The groups run in order, lowest first: repeats are dropped before anything is logged.
SKIP_REPEATS_GROUP = -2
LOG_UPDATE_GROUP = -1

UpdateHandler = BaseHandler[Update, BotContext, None]


async def skip_repeats(update: Update, context: BotContext) -> None:
    """First handler of all: an update already taken on stops here, logged, changing nothing."""
    ledger = context.services.updates_seen
    try:
        new = await ledger.first_time(update.update_id, update_digest(update))
    except Exception:
        # Better to handle an update twice than to drop it: the handlers are idempotent-ish.
        log.exception("could not record update %s; handling it anyway", update.update_id)
        return
    if not new:
        log.info("update %s was delivered again; skipped", update.update_id)
        raise ApplicationHandlerStop


class UpdateLog:
    """One INFO line per update, naming its kind among `kinds` (the kinds the bot asks for)."""

    def __init__(self, kinds: Sequence[str]) -> None:
        self._kinds = tuple(kinds)

    async def __call__(self, update: Update, context: BotContext) -> None:
        del context
        chat = update.effective_chat
        user = update.effective_user
        kind = next((name for name in self._kinds if getattr(update, name) is not None), "other")
        log.info(
            "update %s: %s in chat %s from user %s",
            update.update_id,
            kind,
            chat.id if chat else "-",
            user.id if user else "-",
        )


def middleware(kinds: Sequence[str]) -> list[tuple[int, UpdateHandler]]:
    """The handler groups every update passes first, as (group, handler), in order."""
    return [
        # First of all: an update delivered a second time stops here.
        (SKIP_REPEATS_GROUP, TypeHandler(Update, skip_repeats)),
        (LOG_UPDATE_GROUP, TypeHandler(Update, UpdateLog(kinds))),
    ]
