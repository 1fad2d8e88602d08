"""/publish (admins), /latest, and article cards opened by deep link.

/publish takes an http(s) address, or is sent as a reply to a Markdown file; it answers
"Fetching …" at once and edits that message with the outcome. The work itself is
`bot.articles.publishing`'s; the engine sends the queued cards.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from telegram import Document, Message, Update
from telegram.error import TelegramError

from bot.admins import AdminChat, admin_command
from bot.articles.links import ArticleLinks, chat_audience
from bot.articles.loader import ArticleCard, card_for
from bot.articles.publishing import (
    describe,
    describe_failure,
    publish_draft,
    read_markdown,
    read_source,
)
from bot.articles.sender import post_card, register_shown_card
from bot.services import BotContext
from bot.telegram.command_input import echo
from newsroom.article import ArticleDraft
from newsroom.errors import IngestError
from newsroom.ingest import MARKDOWN_SUFFIXES
from newsroom.urls import is_web_url
from storage import articles
from storage.models import ChatKind

log = logging.getLogger(__name__)

FETCHING = "Fetching …"
PUBLISH_USAGE = (
    "Send /publish followed by the article's address, e.g. /publish https://example.com/story, "
    "or reply with /publish to a Markdown (.md) file you sent."
)
NOT_AVAILABLE = "That article is not available."
NOTHING_YET = "Nothing published yet."
MARKDOWN_MAX_BYTES = 1_000_000


@admin_command
async def publish(update: Update, context: BotContext, chat: AdminChat) -> None:
    """Ingest the address (or the replied-to .md file), store it and queue it for subscribers."""
    if (message := update.effective_message) is None:
        return
    document = replied_document(message)
    source = context.args[0].strip() if context.args else None
    if source is None and document is None:
        await chat.say(PUBLISH_USAGE)
        return
    if source is not None and not is_web_url(source):
        # Files on the bot's own server are for the command line, never for chat commands.
        await chat.say(describe_failure(IngestError(f"{echo(source)}: not an http(s) address")))
        return
    if document is not None and source is None and (refusal := _refusal(document)) is not None:
        await chat.say(refusal)
        return
    status = await chat.say(FETCHING)
    services = context.services
    try:
        if source is not None:
            draft = await read_source(source, settings=services.settings, client=services.http)
        else:
            assert document is not None  # checked above: one of the two is given
            draft = await draft_from_document(document, context)
        result = await publish_draft(services.db, draft, published_by=chat.admin_id)
    except IngestError as error:
        # The address may be quoted in the reason: shortened, so the reason still fits.
        reason = str(error) if source is None else str(error).replace(source, echo(source))
        log.info("publish refused: %s", reason)
        await status.edit_text(describe_failure(IngestError(reason)))
        return
    if result.queued:
        services.delivery.wake()
    log.info("article %s published: %s chats queued", result.article_id, result.queued)
    await status.edit_text(describe(result, zone=services.settings.zone))


def replied_document(message: Message) -> Document | None:
    """The file a command answers: an article to read instead of an address."""
    return message.reply_to_message.document if message.reply_to_message is not None else None


def _refusal(document: Document) -> str | None:
    name = echo(document.file_name or "the file")
    if PurePath(name).suffix.lower() not in MARKDOWN_SUFFIXES:
        return f"Could not publish: {name} is not a Markdown (.md) file."
    if document.file_size is not None and document.file_size > MARKDOWN_MAX_BYTES:
        return (
            f"Could not publish: {name} is {document.file_size:,} bytes; "
            f"at most {MARKDOWN_MAX_BYTES:,} are accepted."
        )
    return None


async def draft_from_document(document: Document, context: BotContext) -> ArticleDraft:
    """The article a Markdown file sent in Telegram describes (/publish, /update). Raises
    IngestError."""
    name = document.file_name or "article.md"
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        raise IngestError(f"{name}: could not be downloaded from Telegram ({error})") from None
    if len(data) > MARKDOWN_MAX_BYTES:
        raise IngestError(f"{name}: over the {MARKDOWN_MAX_BYTES:,} byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise IngestError(f"{name}: not UTF-8 text") from None
    return read_markdown(text, name=name, settings=context.services.settings)


async def latest(update: Update, context: BotContext) -> None:
    """The newest published article's card."""
    if (message := update.effective_message) is None:
        return
    links, audience = _links_for(message, context)
    async with context.services.db.transaction() as session:
        article = await articles.latest_article(session)
        card = (
            await card_for(session, article, links=links, audience=audience)
            if article is not None
            else None
        )
    if card is None:
        await message.reply_text(NOTHING_YET)
        return
    await _show(message, context, card)


async def show_article(update: Update, context: BotContext, article_id: int) -> None:
    """One published article's card, as a deep link `start=a_<id>` asks for."""
    if (message := update.effective_message) is None:
        return
    links, audience = _links_for(message, context)
    async with context.services.db.transaction() as session:
        article = await articles.get_published_article(session, article_id=article_id)
        card = (
            await card_for(session, article, links=links, audience=audience)
            if article is not None
            else None
        )
    if card is None:
        await message.reply_text(NOT_AVAILABLE)
        return
    await _show(message, context, card)


def _links_for(message: Message, context: BotContext) -> tuple[ArticleLinks, ChatKind]:
    """How the card's link is made here: the settings, and the kind of chat it is shown in."""
    return ArticleLinks.from_settings(context.services.settings), chat_audience(message.chat.type)


async def _show(message: Message, context: BotContext, card: ArticleCard) -> None:
    posted = await post_card(context.bot, chat_id=message.chat_id, card=card)
    # The card on request carries the live poll too: its totals are kept up to date.
    async with context.services.db.transaction() as session:
        await register_shown_card(session, card=card, chat_id=message.chat_id, posted=posted)
