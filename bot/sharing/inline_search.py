"""Inline mode's vocabulary: what `@bot <query>` asks for, and the article results it lists.

A query is words matched in titles and standfirsts, or starts with an article's deep-link
payload `a_<id>` (what the card's Share button types) to name exactly that article. A result
posts the article's card as one text message with its poll and keyboard, so the copy a reader
picks is votable at once; its id `a<id>` tells the chosen-result handler which poll it carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from telegram import InlineQueryResultArticle, InputTextMessageContent
from telegram.constants import ParseMode

from bot.articles.card import Card, render_card
from bot.articles.loader import ArticleCard
from bot.telegram.command_input import parse_id
from bot.telegram.deeplinks import ArticleLink, parse_payload
from newsroom.plaintext import shorten, tidy

PAGE_SIZE = 50  # answerInlineQuery takes at most 50 results
CACHE_SECONDS = 10  # results show live totals: Telegram may reuse them only briefly
DESCRIPTION_MAX = 150
_RESULT_ID = re.compile(r"a([0-9]+)")
_OFFSET = re.compile(r"[0-9]{1,9}")
_WEB_IMAGE = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class InlineSearch:
    """One page of an inline query: an exact article, or words to match, from `offset` on."""

    article_id: int | None
    words: str
    offset: int

    def next_offset(self, found: int) -> str:
        """The offset of the next page, or "" when this page was the last."""
        if self.article_id is not None or found < PAGE_SIZE:
            return ""
        return str(self.offset + found)


def parse_query(query: str, offset: str = "") -> InlineSearch:
    """What the reader typed after `@bot`, on the page Telegram asks for."""
    first, _, rest = query.strip().partition(" ")
    start = int(offset) if _OFFSET.fullmatch(offset) else 0
    link = parse_payload(first)
    if isinstance(link, ArticleLink):
        return InlineSearch(link.article_id, rest.strip(), start)
    return InlineSearch(None, query.strip(), start)


def result_id(article_id: int) -> str:
    return f"a{article_id}"


def article_of_result(chosen_id: str) -> int | None:
    """The article a chosen result posted, or None for an id this bot never lists."""
    match = _RESULT_ID.fullmatch(chosen_id)
    return parse_id(match.group(1)) if match else None


def inline_card(card: ArticleCard) -> Card:
    """The card as one text message (an image card's headline and poll in one place)."""
    return render_card(replace(card.article, image_url=None), poll=card.poll)


def inline_result(card: ArticleCard) -> InlineQueryResultArticle:
    """The result that lists the article and, once chosen, posts its card with the poll."""
    article = card.article
    shown = inline_card(card)
    image = (article.image_url or "").strip()
    return InlineQueryResultArticle(
        id=result_id(article.article_id),
        title=shorten(tidy(article.title), 256) or "Article",
        description=shorten(tidy(article.standfirst), DESCRIPTION_MAX) or None,
        thumbnail_url=image if _WEB_IMAGE.fullmatch(image) else None,
        input_message_content=InputTextMessageContent(shown.text_html, parse_mode=ParseMode.HTML),
        reply_markup=shown.markup,
    )
