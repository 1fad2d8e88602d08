"""What a message showing a poll should say now: the article card's poll-carrying message, or
the poll alone for a poll without an article.

Rendering a card is not free, so the content is kept per poll (and kind of chat, when article
links differ by kind: `bot/articles/links.py`) until its counts or state change
(``LivePoll.version``); the article's card fields are kept for ``article_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from telegram import InlineKeyboardMarkup

from bot.articles.card import CardArticle, PollMessageContent, render_card_for_poll_update
from bot.articles.links import PLAIN_LINKS, ArticleLinks, Audience
from bot.articles.loader import card_article
from bot.polls.book import LivePoll
from bot.polls.view import poll_buttons, render_poll_html
from storage import articles
from storage.engine import Database
from storage.models import ChatKind

ARTICLE_SECONDS = 60.0


@dataclass(frozen=True)
class _Rendered:
    version: int
    content: PollMessageContent


class PollContent:
    """Renders and remembers the current content of each poll's messages."""

    def __init__(
        self,
        db: Database,
        *,
        links: ArticleLinks = PLAIN_LINKS,
        article_seconds: float = ARTICLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._links = links
        self._article_seconds = article_seconds
        self._clock = clock
        self._articles: dict[tuple[int, Audience], tuple[CardArticle | None, float]] = {}
        self._rendered: dict[tuple[int, bool, Audience], _Rendered] = {}

    def forget_article(self, article_id: int, poll_id: int | None) -> None:
        """The article was corrected: its card fields and its poll's content are read afresh."""
        self._articles = {
            key: held for key, held in self._articles.items() if key[0] != article_id
        }
        self._rendered = {key: held for key, held in self._rendered.items() if key[0] != poll_id}

    async def content(
        self,
        live: LivePoll,
        *,
        single_message: bool = False,
        audience: Audience = ChatKind.PRIVATE,
    ) -> PollMessageContent:
        """The text and keyboard this poll's messages should show now, in a chat of the kind
        `audience` (None: an inline copy).

        `single_message` is for copies that carry the whole card in one message (inline
        copies); otherwise an image card's poll sits in the message that follows the photo.
        """
        if not self._links.per_audience:
            audience = ChatKind.PRIVATE  # one content for every kind of chat
        key = (live.poll_id, single_message, audience)
        cached = self._rendered.get(key)
        if cached is not None and cached.version == live.version:
            return cached.content
        version = live.version
        view = live.view()
        article = await self._article(live.record.article_id, audience)
        if article is None:
            content = PollMessageContent(
                text_html=render_poll_html(view), markup=InlineKeyboardMarkup(poll_buttons(view))
            )
        else:
            if single_message:
                article = replace(article, image_url=None)
            content = render_card_for_poll_update(article, poll=view)
        self._rendered[key] = _Rendered(version, content)
        return content

    async def _article(self, article_id: int | None, audience: Audience) -> CardArticle | None:
        if article_id is None:
            return None
        now = self._clock()
        cached = self._articles.get((article_id, audience))
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self._db.transaction() as session:
            article = await articles.get_article(session, article_id=article_id)
            card = card_article(article) if article is not None else None
            if card is not None and self._links.per_audience:
                link = await self._links.card_link(
                    session, card.url, article_id=card.article_id, audience=audience
                )
                card = replace(card, url=link)
        self._articles[article_id, audience] = (card, now + self._article_seconds)
        return card
