"""The one error handler: log the failure with its update, tell the user without internals."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.services import BotContext

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Sorry, something went wrong on our side. Please try again in a moment."


async def report_error(update: object, context: BotContext) -> None:
    """Never raises: an apology that fails too (network, an answer the client cannot read) is
    one log line, never python-telegram-bot's "uncaught error while handling the error"."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        await _apologise(update, context)
    except TelegramError as error:
        log.debug("could not apologise for update %s: %s", update_id, error.message)
    except Exception as error:  # whatever the apology met, the error handler ends here
        log.warning(
            "could not apologise for update %s: %s: %s", update_id, type(error).__name__, error
        )


async def _apologise(update: Update, context: BotContext) -> None:
    if (query := update.callback_query) is not None:
        # A handler that answered the tap before failing: Telegram refuses a second answer.
        if context.bot.answered(query.id):
            log.debug("the tap of update %s was answered before it failed", update.update_id)
        else:
            await query.answer(SOMETHING_WENT_WRONG)
        return
    if (message := update.effective_message) is not None and update.effective_chat is not None:
        await message.reply_text(SOMETHING_WENT_WRONG)
