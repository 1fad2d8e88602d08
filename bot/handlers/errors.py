"""The one error handler: log the failure with its update, tell the user without internals."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Sorry, something went wrong on our side. Please try again in a moment."


async def report_error(update: object, context: BotContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(SOMETHING_WENT_WRONG)
        except TelegramError:
            log.debug("could not answer callback query of update %s", update_id)
        return
    if (message := update.effective_message) is not None and update.effective_chat is not None:
        try:
            await message.reply_text(SOMETHING_WENT_WRONG)
        except TelegramError:
            log.debug("could not tell chat %s about the failure", update.effective_chat.id)
