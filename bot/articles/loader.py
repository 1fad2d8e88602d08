"""From stored article to card: the fields a card shows and the live poll that goes with it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.articles.card import Card, CardArticle, render_card
from bot.articles.links import PLAIN_LINKS, ArticleLinks, Audience
from newsroom.poll import PollView
from storage import articles, polls
from storage.models import Article, ChatKind


@dataclass(frozen=True)
class ArticleCard:
    """Everything needed to render one article's card: its fields and its poll as it is now."""

    article: CardArticle
    poll: PollView | None

    def render(self) -> Card:
        return render_card(self.article, poll=self.poll)


def card_article(article: Article) -> CardArticle:
    """The card's view of a stored article."""
    if article.id is None:
        raise ValueError("an article needs to be stored before it has a card")
    related = tuple(
        (str(link.get("title", "")), str(link.get("url", ""))) for link in article.related
    )
    return CardArticle(
        article_id=article.id,
        title=article.title,
        url=article.canonical_url,
        standfirst=article.standfirst or "",
        author=article.author,
        reading_minutes=article.reading_minutes or 1,
        key_points=tuple(article.key_points),
        fact=article.fact,
        image_url=article.image_url,
        related=related,
        revision=article.revision,
        correction=article.correction,
    )


async def card_for(
    session: AsyncSession,
    article: Article,
    *,
    links: ArticleLinks = PLAIN_LINKS,
    audience: Audience = ChatKind.PRIVATE,
) -> ArticleCard:
    """The card of a stored article with its poll's current totals, its link made for
    `audience` (the kind of chat it goes to; None for an inline copy)."""
    card = card_article(article)
    if links.per_audience:
        link = await links.card_link(
            session, card.url, article_id=card.article_id, audience=audience
        )
        card = replace(card, url=link)
    poll = await polls.poll_for_article(session, article_id=card.article_id)
    view = await polls.poll_view(session, poll_id=poll.id) if poll and poll.id else None
    return ArticleCard(card, view)


async def load_card(
    session: AsyncSession,
    article_id: int,
    *,
    links: ArticleLinks = PLAIN_LINKS,
    audience: Audience = ChatKind.PRIVATE,
) -> ArticleCard | None:
    """The card of the article with this id, or None when there is no such article."""
    article = await articles.get_article(session, article_id=article_id)
    if article is None:
        return None
    return await card_for(session, article, links=links, audience=audience)
