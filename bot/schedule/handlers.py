"""Scheduling for later: `/publish <address> at 18:00`, and /queue to list and cancel — admins.

Publishing itself is `bot.articles.publishing`'s; this module only records when, and the scheduler
runs it then. Times are read in TIMEZONE; a time already past is refused with a clear reason.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.admins import AdminChat, admin_button, admin_command
from bot.schedule.when import WhenError, describe_moment, find_at, parse_moment
from bot.services import BotContext
from bot.settings import Settings
from bot.telegram.callback_data import QueueCancel, encode, parse
from bot.telegram.command_input import echo
from newsroom.urls import is_web_url
from storage import schedule
from storage.models import ScheduledAction, ScheduledKind

log = logging.getLogger(__name__)

PUBLISH_LATER_USAGE = "Send /publish <address> at 18:00 (or at 2026-12-01 09:00)."
NOTHING_SCHEDULED = "Nothing is scheduled."
# Telegram shows at most 100 buttons; a queue this long is read in pages of this size.
QUEUE_SHOWN = 20
# Characters of an address a line of /queue shows: twenty lines stay well within one message.
QUEUE_ADDRESS_SHOWN = 120


def is_queue_cancel(data: object) -> bool:
    return isinstance(data, str) and isinstance(parse(data), QueueCancel)


@admin_command
async def publish_later(update: Update, context: BotContext, chat: AdminChat) -> None:
    """`/publish <address> at <time>`: publish the article when the time comes."""
    if (message := update.effective_message) is None:
        return
    text = message.text or ""
    at = find_at(text)
    source = context.args[0].strip() if context.args else ""
    if at is None or not source or source.lower() == "at":
        await chat.say(PUBLISH_LATER_USAGE)
        return
    if not is_web_url(source):
        await chat.say(f"Could not schedule: {echo(source)} is not an http(s) address.")
        return
    settings = context.services.settings
    try:
        due_at = parse_moment(at.group("when"), zone=settings.zone)
    except WhenError as error:
        await chat.say(str(error))
        return
    async with context.services.db.transaction() as session:
        action = await schedule.schedule_action(
            session,
            kind=ScheduledKind.PUBLISH,
            due_at=due_at,
            author_id=chat.admin_id,
            chat_id=chat.chat_id,
            url=source,
        )
    context.services.scheduler.wake()
    log.info("publish of %s scheduled for %s", echo(source), due_at.isoformat())
    await chat.say(
        f"Scheduled #{action.id}: {echo(source)} will be published at "
        f"{describe_moment(due_at, settings.zone)}. /queue lists what is scheduled."
    )


def _line(action: ScheduledAction, settings: Settings) -> str:
    when = describe_moment(action.due_at, settings.zone)
    what = (
        f"publish {echo(action.url or '', QUEUE_ADDRESS_SHOWN)}"
        if action.kind is ScheduledKind.PUBLISH
        else f"broadcast #{action.broadcast_id}"
    )
    return f"#{action.id} · {when} · {what}"


async def _queue_view(context: BotContext) -> tuple[str, InlineKeyboardMarkup | None]:
    async with context.services.db.transaction() as session:
        actions = await schedule.pending_actions(session, limit=QUEUE_SHOWN)
    if not actions:
        return NOTHING_SCHEDULED, None
    settings = context.services.settings
    text = "Scheduled:\n" + "\n".join(_line(action, settings) for action in actions)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"Cancel #{action.id}", callback_data=encode(QueueCancel(action.id or 0))
                )
            ]
            for action in actions
        ]
    )
    return text, keyboard


@admin_command
async def queue(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """List what is scheduled, with a Cancel button for each."""
    text, keyboard = await _queue_view(context)
    await chat.say(text, reply_markup=keyboard)


@admin_button(QueueCancel)
async def cancel_scheduled(query: CallbackQuery, context: BotContext, value: QueueCancel) -> None:
    """A Cancel button of /queue: the action will not run; the list is refreshed."""
    async with context.services.db.transaction() as session:
        cancelled = await schedule.cancel_action(session, action_id=value.job_id)
    await query.answer(
        f"Cancelled #{value.job_id}." if cancelled else f"#{value.job_id} is no longer scheduled."
    )
    text, keyboard = await _queue_view(context)
    await query.edit_message_text(text, reply_markup=keyboard)
