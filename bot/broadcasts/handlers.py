"""/broadcast (preview, then Send or Cancel), /cancel of a running broadcast — admins only.

`/broadcast <text>` sends HTML text; `/broadcast` as a reply copies the replied message
(media and formatting kept). Options before the text target chat kinds (--groups, --private,
--channels), topics (--topic NAME) and a later time (at 18:00, at 2026-12-01 09:00); --urgent
sends it to readers inside their quiet hours too (others wait until those end).
"""

from __future__ import annotations

import html
import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot.admins import AdminChat, admin_button, admin_command
from bot.broadcasts.request import BroadcastRequestError, read_broadcast_command
from bot.chats.topics import replied_to
from bot.schedule.when import WhenError, describe_moment, parse_moment
from bot.services import BotContext
from bot.telegram.callback_data import BroadcastDecision, encode, parse
from bot.telegram.command_input import echo, sole_id
from storage import broadcasts, deliveries, schedule
from storage.models import Broadcast, BroadcastStatus, ChatKind, ScheduledKind

log = logging.getLogger(__name__)

BROADCAST_USAGE = (
    "Send /broadcast followed by the text, or reply /broadcast to the message to send. "
    "Options before the text: --groups, --private, --channels, --topic NAME, "
    "--urgent (goes out during readers' quiet hours too), at 18:00 or at 2026-12-01 09:00."
)
# The preview's last line when the broadcast is urgent.
URGENT_NOTE = "Urgent: goes out during readers' quiet hours too."
# And when it is not: readers in their quiet hours get it when those end.
QUIET_NOTE = "Readers in their quiet hours get it when those end (--urgent sends it at once)."
NOTHING_RUNNING = "No broadcast is running."
NOT_RUNNING = "Broadcast #{id} is not running."
CANCEL_USAGE = "Send /cancel to stop every running broadcast, or /cancel <broadcast id> for one."
ALREADY_DECIDED = "This broadcast was already sent or cancelled."
SEND = "Send"
CANCEL = "Cancel"


def is_broadcast_decision(data: object) -> bool:
    return isinstance(data, str) and isinstance(parse(data), BroadcastDecision)


def _body_html(message: Message, start: int) -> str:
    """The message's formatted text from `start` on, as HTML."""
    text = message.text or ""
    formatted = message.text_html
    # Options are plain words, so the HTML starts with them unchanged unless formatted.
    if formatted[:start] == text[:start]:
        return formatted[start:].strip()
    return html.escape(text[start:].strip())


def _targets(kinds: list[str], topics: list[str]) -> str:
    parts = []
    if kinds:
        parts.append(", ".join(sorted({ChatKind(k).value for k in kinds})))
    if topics:
        parts.append("topic " + echo(", ".join(topics)))
    return f" ({'; '.join(parts)})" if parts else ""


@admin_command
async def broadcast(update: Update, context: BotContext, chat: AdminChat) -> None:
    """Prepare a broadcast and show it with Send and Cancel buttons."""
    if (message := update.effective_message) is None:
        return
    settings = context.services.settings
    try:
        request = read_broadcast_command(message.text or "")
        when = parse_moment(request.when, zone=settings.zone) if request.when else None
    except (BroadcastRequestError, WhenError) as error:
        await chat.say(str(error))
        return
    source = replied_to(message)
    body = _body_html(message, request.body_start)
    if source is None and not body:
        await chat.say(BROADCAST_USAGE)
        return
    async with context.services.db.transaction() as session:
        draft = await broadcasts.create_broadcast(
            session,
            author_id=chat.admin_id,
            html=None if source is not None else body,
            copy_from_chat_id=source.chat_id if source is not None else None,
            copy_message_id=source.message_id if source is not None else None,
            kinds=request.kinds,
            topics=request.topics,
            scheduled_for=when,
            urgent=request.urgent,
        )
        audience = await deliveries.count_audience(
            session, kinds=request.kinds, topics=request.topics
        )
    broadcast_id = draft.id or 0
    # The preview is the message exactly as readers will get it.
    if source is not None:
        await context.bot.copy_message(chat.chat_id, source.chat_id, source.message_id)
    else:
        await chat.say(body, parse_mode=ParseMode.HTML)
    moment = f" at {describe_moment(when, settings.zone)}" if when else " now"
    targets = _targets(list(draft.target_kinds), list(draft.target_topics))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    SEND, callback_data=encode(BroadcastDecision(broadcast_id, True))
                ),
                InlineKeyboardButton(
                    CANCEL, callback_data=encode(BroadcastDecision(broadcast_id, False))
                ),
            ]
        ]
    )
    await chat.say(
        f"Broadcast #{broadcast_id}: send the message above to {audience} "
        f"chat{'s' if audience != 1 else ''}{targets}{moment}?\n"
        f"{URGENT_NOTE if draft.urgent else QUIET_NOTE}",
        reply_markup=keyboard,
    )


@admin_button(BroadcastDecision)
async def decide(query: CallbackQuery, context: BotContext, decision: BroadcastDecision) -> None:
    """The Send or Cancel button under a broadcast preview."""
    services = context.services
    broadcast_id = decision.broadcast_id
    report_chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    if not decision.send:
        async with services.db.transaction() as session:
            stopped = await broadcasts.cancel_broadcast(session, broadcast_id=broadcast_id)
        await query.answer("Cancelled." if stopped is not None else ALREADY_DECIDED)
        if stopped is not None:
            await query.edit_message_text(f"Broadcast #{broadcast_id} cancelled.")
        return
    async with services.db.transaction() as session:
        draft = await broadcasts.get_broadcast(session, broadcast_id=broadcast_id)
        outcome = await _go(session, draft, query.from_user.id, report_chat_id)
    if outcome is None:
        await query.answer(ALREADY_DECIDED)
        return
    await query.answer(outcome)
    await query.edit_message_text(outcome)
    if draft is not None and draft.scheduled_for is not None:
        services.scheduler.wake()
    else:
        services.delivery.wake()
        services.broadcast_monitor.wake()


async def _go(
    session: AsyncSession,
    draft: Broadcast | None,
    author_id: int,
    report_chat_id: int,
) -> str | None:
    """Schedule or start the draft; what to tell the admin, or None if it was not a draft."""
    if draft is None or draft.id is None or draft.status is not BroadcastStatus.DRAFT:
        return None
    if draft.scheduled_for is not None:
        await broadcasts.schedule_broadcast(session, broadcast_id=draft.id)
        action = await schedule.schedule_action(
            session,
            kind=ScheduledKind.BROADCAST,
            due_at=draft.scheduled_for,
            author_id=author_id,
            chat_id=report_chat_id,
            broadcast_id=draft.id,
        )
        return f"Broadcast #{draft.id} is scheduled (#{action.id} in /queue)."
    queued = await broadcasts.start_broadcast(
        session, broadcast_id=draft.id, report_chat_id=report_chat_id
    )
    log.info("broadcast %s started for %s chats", draft.id, queued)
    return f"Broadcast #{draft.id}: sending to {queued} chat{'s' if queued != 1 else ''}."


@admin_command
async def cancel(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """Stop every running broadcast (or the one named): pending deliveries are cancelled, sent
    ones stay. Anything else after /cancel gets the usage, never a cancellation."""
    wanted: int | None = None
    if context.args and (wanted := sole_id(context.args)) is None:
        await chat.say(CANCEL_USAGE)
        return
    services = context.services
    lines = []
    async with services.db.transaction() as session:
        for running in await broadcasts.running_broadcasts(session):
            if running.id is None or running.status is not BroadcastStatus.RUNNING:
                continue
            if wanted is not None and running.id != wanted:
                continue
            dropped = await broadcasts.cancel_broadcast(session, broadcast_id=running.id)
            lines.append(
                f"Broadcast #{running.id} cancelled: {dropped or 0} deliveries will not be sent; "
                "those already sent stay."
            )
    nothing = NOTHING_RUNNING if wanted is None else NOT_RUNNING.format(id=wanted)
    await chat.say("\n".join(lines) or nothing)
    if lines:
        services.broadcast_monitor.wake()
