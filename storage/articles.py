"""Queries about articles: storing an ingested draft once, marking it published, finding it again.

Every function takes the caller's session and never commits. An article is the same article when
its canonical address or its source guid matches; storing it again returns the stored row, except
when it is stored to be published: then a draft nobody published is set aside (withdrawn, its
address and guid moved out of the way) and the publisher's own read is stored in its place.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from newsroom.article import ArticleDraft
from storage.models import Article, ArticleStatus, Delivery, DeliveryStatus, ResultsVisibility
from storage.polls import create_poll
from storage.types import utcnow

SEARCH_LIMIT_MAX = 50


@dataclass(frozen=True)
class StoreResult:
    """The stored article and whether this call created it (False: it was already there)."""

    article: Article
    created: bool


async def find_article(
    session: AsyncSession, *, url: str, source_guid: str | None = None
) -> Article | None:
    """The stored article with this canonical address or, when given, this source guid."""
    same = col(Article.canonical_url) == url
    if source_guid is not None:
        same = sa.or_(same, col(Article.source_guid) == source_guid)
    result = await session.exec(select(Article).where(same).order_by(col(Article.id)).limit(1))
    return result.first()


async def store_article(session: AsyncSession, *, draft: ArticleDraft) -> StoreResult:
    """Store the draft as a new article with its poll, unless the same article is stored already.

    The new article is a draft until `mark_published`; the existing one is returned unchanged.
    """
    existing = await find_article(session, url=draft.url, source_guid=draft.source_guid)
    if existing is not None:
        return StoreResult(existing, created=False)
    return StoreResult(await _insert(session, draft), created=True)


# The failure recorded on a set-aside article's pending deliveries.
SET_ASIDE = "set aside"


async def store_for_publishing(session: AsyncSession, *, draft: ArticleDraft) -> StoreResult:
    """Store the draft a publisher just read, to be published: an article published before is
    returned unchanged (created False); anything else comes from this very draft.

    A stored article that is not published (an autocard's read of some page naming this
    address, or of the page as it was then) is never what gets pushed: it is set aside first.
    """
    # Two rows may match (one by address, one by guid): set aside every unpublished one.
    while (
        existing := await find_article(session, url=draft.url, source_guid=draft.source_guid)
    ) is not None and existing.status != ArticleStatus.PUBLISHED:
        await _set_aside(session, existing)
    if existing is not None:
        return StoreResult(existing, created=False)
    return StoreResult(await _insert(session, draft), created=True)


async def _set_aside(session: AsyncSession, article: Article) -> None:
    """Withdraw the unpublished article and free its address and guid for the publisher's read.

    Its cards already shown, its poll and votes stay with it; readers are never pushed it.
    """
    article.status = ArticleStatus.WITHDRAWN
    # Canonical addresses never carry a fragment, so the moved one can never match a real one.
    article.canonical_url = f"{article.canonical_url}#set-aside-{article.id}"
    article.source_guid = None
    article.updated_at = utcnow()
    session.add(article)
    await session.flush()
    # An autocard of it still waiting for a retry never goes out now.
    await session.exec(
        sa.update(Delivery)
        .where(
            col(Delivery.article_id) == article.id,
            col(Delivery.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED, failure=SET_ASIDE, updated_at=utcnow())
    )


async def _insert(session: AsyncSession, draft: ArticleDraft) -> Article:
    now = utcnow()
    article = Article(
        canonical_url=draft.url,
        source_guid=draft.source_guid,
        title=draft.title,
        standfirst=draft.standfirst,
        author=draft.author,
        published_at=draft.published_at,
        image_url=draft.image_url,
        body=draft.body or None,
        key_points=list(draft.key_points),
        fact=draft.fact,
        reading_minutes=draft.reading_minutes,
        topics=list(draft.topics),
        related=[{"title": link.title, "url": link.url} for link in draft.related],
        status=ArticleStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    await session.flush()
    if article.id is None:
        raise RuntimeError("the database gave the new article no id")
    if draft.poll is not None:
        await create_poll(
            session,
            article_id=article.id,
            question=draft.poll.question,
            options=list(draft.poll.options),
            closes_at=draft.poll.closes_at,
            visibility=ResultsVisibility.ALWAYS,
        )
    return article


async def publisher_of(session: AsyncSession, *, article_id: int | None) -> int | None:
    """The admin who published the article, when one did and it was recorded."""
    if article_id is None:
        return None
    article = await session.get(Article, article_id)
    return article.published_by if article is not None else None


async def mark_published(
    session: AsyncSession,
    *,
    article_id: int,
    at: datetime | None = None,
    published_by: int | None = None,
) -> Article:
    """Mark the article published (pushed to subscribers) now or at `at`, by the admin
    `published_by` (None for feed items); return it."""
    article = await session.get(Article, article_id)
    if article is None:
        raise LookupError(f"no article {article_id}")
    moment = at or utcnow()
    article.status = ArticleStatus.PUBLISHED
    article.pushed_at = moment
    article.updated_at = moment
    article.published_by = published_by
    session.add(article)
    await session.flush()
    return article


async def get_article(session: AsyncSession, *, article_id: int) -> Article | None:
    return await session.get(Article, article_id)


async def get_published_article(session: AsyncSession, *, article_id: int) -> Article | None:
    """The article if readers may see it: published, not a draft or withdrawn."""
    article = await session.get(Article, article_id)
    if article is None or article.status != ArticleStatus.PUBLISHED:
        return None
    return article


async def latest_article(session: AsyncSession) -> Article | None:
    """The article published most recently, or None before the first one."""
    result = await session.exec(
        select(Article)
        .where(col(Article.status) == ArticleStatus.PUBLISHED)
        .order_by(col(Article.pushed_at).desc(), col(Article.id).desc())
        .limit(1)
    )
    return result.first()


async def search_articles(
    session: AsyncSession, *, text: str = "", limit: int = 10, offset: int = 0
) -> list[Article]:
    """Published articles with every word of `text` (any case) in the title or standfirst,
    newest first."""
    statement = select(Article).where(col(Article.status) == ArticleStatus.PUBLISHED)
    words = text.split()
    for word in words:
        # LIKE wildcards typed by a reader are matched literally.
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            sa.or_(
                col(Article.title).ilike(pattern, escape="\\"),
                col(Article.standfirst).ilike(pattern, escape="\\"),
            )
        )
    statement = (
        statement.order_by(col(Article.pushed_at).desc(), col(Article.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), SEARCH_LIMIT_MAX))
    )
    return list((await session.exec(statement)).all())
