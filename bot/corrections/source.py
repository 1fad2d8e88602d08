"""The corrected article, read again: from its own address through the guarded fetcher, or from
a corrected Markdown file the admin replied to. What was read must name the stored article's
address as its own: a page (or file) never decides which article it replaces."""

from __future__ import annotations

from pathlib import PurePath

from telegram import Document

from bot.articles.handlers import MARKDOWN_MAX_BYTES, draft_from_document
from bot.articles.publishing import read_source
from bot.services import BotContext
from bot.telegram.command_input import echo
from newsroom.article import ArticleDraft
from newsroom.errors import IngestError
from newsroom.ingest import MARKDOWN_SUFFIXES
from storage.models import Article


async def read_corrected(
    article: Article, *, document: Document | None, context: BotContext
) -> ArticleDraft:
    """The article as its source says now. Raises IngestError, its message for the admin."""
    if document is not None:
        _check_document(document)
        draft = await draft_from_document(document, context)
    else:
        services = context.services
        address = article.canonical_url
        try:
            draft = await read_source(address, settings=services.settings, client=services.http)
        except IngestError as error:
            # The address may be quoted in the reason: shortened, so the reason still fits.
            raise IngestError(str(error).replace(address, echo(address))) from None
    if draft.url != article.canonical_url:
        raise IngestError(
            f"it names {echo(draft.url)} as its address, not this article's "
            f"{echo(article.canonical_url)}."
        )
    return draft


def _check_document(document: Document) -> None:
    name = echo(document.file_name or "the file")
    if PurePath(name).suffix.lower() not in MARKDOWN_SUFFIXES:
        raise IngestError(f"{name} is not a Markdown (.md) file.")
    if document.file_size is not None and document.file_size > MARKDOWN_MAX_BYTES:
        raise IngestError(
            f"{name} is {document.file_size:,} bytes; at most {MARKDOWN_MAX_BYTES:,} are accepted."
        )
