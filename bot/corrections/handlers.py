"""/update and /retract (admins): a preview with Confirm and Cancel, then the runner's work.

`/update <id> [note]` reads the article again (its address, or the .md file replied to) and,
when its card would change, previews what changes and on how many copies; Confirm stores the
new version and queues one edit per copy. `/retract <id> [reason]` previews the withdrawal;
Confirm withdraws the article, closes its poll, cancels its pending deliveries and queues one
delete (or notice) per copy. Either way the preview becomes the progress message, then the
report (bot/corrections/progress.py).
"""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)

from bot.admins import AdminChat, admin_button, admin_command
from bot.articles.handlers import replied_document
from bot.corrections import texts
from bot.corrections.diff import changed_fields, same_card
from bot.corrections.source import read_corrected
from bot.services import BotContext
from bot.telegram.callback_data import CorrectionDecision, encode, parse
from bot.telegram.command_input import parse_id
from newsroom.errors import IngestError
from storage import articles, corrections
from storage.corrections import Refusal
from storage.models import Article, ArticleStatus, CorrectionAction
from storage.types import utcnow

log = logging.getLogger(__name__)


def is_correction_decision(data: object) -> bool:
    return isinstance(data, str) and isinstance(parse(data), CorrectionDecision)


def _request(args: list[str] | None) -> tuple[int, str | None] | None:
    """The article id and the note (or reason) after it; None when no id comes first."""
    if not args or (article_id := parse_id(args[0])) is None:
        return None
    note = texts.reader_note(" ".join(args[1:]))
    return article_id, note or None


def _keyboard(correction_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.CONFIRM, callback_data=encode(CorrectionDecision(correction_id, True))
                ),
                InlineKeyboardButton(
                    texts.CANCEL, callback_data=encode(CorrectionDecision(correction_id, False))
                ),
            ]
        ]
    )


async def _asked(
    chat: AdminChat, context: BotContext, usage: str, what: str
) -> tuple[Article, str | None] | None:
    """The article the admin named, with their note; None once a refusal has been sent."""
    if (request := _request(context.args)) is None:
        await chat.say(usage)
        return None
    article_id, note = request
    if note is not None and len(note) > texts.NOTE_MAX:
        await chat.say(
            texts.NOTE_TOO_LONG.format(what=what, length=len(note), limit=texts.NOTE_MAX)
        )
        return None
    async with context.services.db.transaction() as session:
        article = await articles.get_article(session, article_id=article_id)
    if article is None:
        await chat.say(texts.NO_SUCH_ARTICLE.format(id=article_id))
        return None
    return article, note


@admin_command
async def update(update: Update, context: BotContext, chat: AdminChat) -> None:
    """Preview the correction of an article from its source; Confirm edits every copy."""
    if (message := update.effective_message) is None:
        return
    if (asked := await _asked(chat, context, texts.UPDATE_USAGE, "note")) is None:
        return
    article, note = asked
    article_id = article.id or 0
    if article.status is ArticleStatus.WITHDRAWN:
        await chat.say(texts.WITHDRAWN_NOT_UPDATED.format(id=article_id))
        return
    status = await chat.say(texts.READING.format(id=article_id))
    try:
        draft = await read_corrected(article, document=replied_document(message), context=context)
    except IngestError as error:
        log.info("update of article %s refused: %s", article_id, error)
        await status.edit_text(texts.not_read(article_id, str(error)))
        return
    fields = corrections.draft_fields(draft)
    async with context.services.db.transaction() as session:
        stored = await articles.get_article(session, article_id=article_id)
        if stored is None or stored.status is ArticleStatus.WITHDRAWN:
            await status.edit_text(texts.WITHDRAWN_NOT_UPDATED.format(id=article_id))
            return
        corrected = corrections.with_fields(stored, fields)
        if same_card(stored, corrected):
            await status.edit_text(texts.NOTHING_CHANGED.format(id=article_id))
            return
        changes = changed_fields(stored, corrected)
        draft_row = await corrections.create_draft(
            session,
            article=stored,
            action=CorrectionAction.UPDATE,
            author_id=chat.admin_id,
            note=note,
            fields=fields,
        )
        copies, unreachable = await corrections.count_copies(session, article_id=article_id)
    preview = texts.update_preview(
        article_id,
        title=corrected.title,
        changes=changes,
        copies=copies,
        unreachable=unreachable,
        note=note,
    )
    await status.edit_text(preview, reply_markup=_keyboard(draft_row.id or 0))


@admin_command
async def retract(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """Preview the withdrawal of an article; Confirm deletes or replaces every copy."""
    if (asked := await _asked(chat, context, texts.RETRACT_USAGE, "reason")) is None:
        return
    article, reason = asked
    article_id = article.id or 0
    if article.status is ArticleStatus.WITHDRAWN:
        await chat.say(texts.ALREADY_WITHDRAWN.format(id=article_id))
        return
    async with context.services.db.transaction() as session:
        draft_row = await corrections.create_draft(
            session,
            article=article,
            action=CorrectionAction.RETRACT,
            author_id=chat.admin_id,
            note=reason,
        )
        copies, unreachable = await corrections.count_copies(session, article_id=article_id)
        pending = await corrections.pending_deliveries(session, article_id=article_id)
        has_poll = await corrections.poll_of(session, article_id=article_id) is not None
    preview = texts.retract_preview(
        article_id,
        title=article.title,
        copies=copies,
        unreachable=unreachable,
        pending=pending,
        reason=reason,
        has_poll=has_poll,
    )
    await chat.say(preview, reply_markup=_keyboard(draft_row.id or 0))


@admin_button(CorrectionDecision)
async def decide(query: CallbackQuery, context: BotContext, decision: CorrectionDecision) -> None:
    """Confirm or Cancel under a correction's preview."""
    services = context.services
    correction_id = decision.correction_id
    if not decision.confirm:
        async with services.db.transaction() as session:
            stopped = await corrections.cancel_draft(session, correction_id=correction_id)
        if stopped is None:
            await query.answer(texts.ALREADY_DECIDED)
            return
        await query.answer("Cancelled.")
        await query.edit_message_text(texts.cancelled(stopped.action, stopped.article_id))
        return
    message = query.message
    async with services.db.transaction() as session:
        draft_row = await corrections.get_correction(session, correction_id=correction_id)
        line = None
        if draft_row is not None and draft_row.action is CorrectionAction.UPDATE:
            line = texts.updated_line(utcnow(), services.settings.zone, draft_row.note)
        outcome = await corrections.confirm(
            session,
            correction_id=correction_id,
            progress_chat_id=message.chat.id if message is not None else None,
            progress_message_id=message.message_id if message is not None else None,
            line=line,
        )
    if isinstance(outcome, Refusal):
        article_id = draft_row.article_id if draft_row is not None else 0
        refusal = texts.refused_confirm(article_id, outcome.value)
        await query.answer(refusal[:200])
        if outcome is not Refusal.DECIDED:
            await query.edit_message_text(refusal)
        return
    confirmed = outcome.correction
    log.info(
        "correction %s of article %s confirmed: %s copies",
        correction_id,
        confirmed.article_id,
        outcome.copies,
    )
    await query.answer("Confirmed.")
    await query.edit_message_text(
        texts.started(confirmed.action, confirmed.article_id, outcome.copies)
    )
    await services.corrections.confirmed(
        correction_id=correction_id,
        article_id=confirmed.article_id,
        poll_id=outcome.poll_id,
        withdrawn=confirmed.action is CorrectionAction.RETRACT,
    )
