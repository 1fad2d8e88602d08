"""Publishing an article: ingest the source, store it, queue it for every active subscriber.

Shared by /publish, `python -m bot publish` and the feed job. Storing the article, queuing its
deliveries, marking it published and (for feed items) recording the item's key happen in one
transaction, so a crash can never publish an article twice or leave it half made. Sending is
the delivery engine's job: callers wake it after this returns. What is pushed is always the
draft the publisher just read, never one stored before (see `storage.articles`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.settings import Settings
from bot.telegram.command_input import echo
from newsroom.article import ArticleDraft
from newsroom.feeds import FeedItem
from newsroom.frontmatter import parse_markdown_article
from newsroom.ingest import ingest, ingest_feed_item
from newsroom.summary import summarised
from newsroom.web_client import WebClient
from storage import articles, deliveries, feeds
from storage.engine import Database

USER_AGENT = "newsdesk-bot (Telegram article cards; +https://core.telegram.org/bots)"
# A title, poll or address quoted in a refusal has no length limit of its own; a message has.
FAILURE_SHOWN = 1000
HEADLINE_SHOWN = 200  # characters of the headline the outcome of publishing repeats


def fetch_client(settings: Settings) -> WebClient:
    """The HTTP client pages and feeds are fetched with; the caller closes it.

    It reaches public addresses only, unless FETCH_ALLOW_PRIVATE lets it into the intranet.
    """
    return WebClient(allow_private=settings.fetch_allow_private, user_agent=USER_AGENT)


@dataclass(frozen=True)
class PublishResult:
    """What publishing did: the article, and how many chats it was queued for (0 if it was
    published before, in which case `already_published_at` says when)."""

    article_id: int
    title: str
    queued: int
    already_published_at: datetime | None = None

    @property
    def already_published(self) -> bool:
        return self.already_published_at is not None


@dataclass(frozen=True)
class FeedOrigin:
    """The feed item an article came from: its key is recorded with the article."""

    key: str
    feed_url: str


async def read_source(
    source: str,
    *,
    settings: Settings,
    client: WebClient | None = None,
    sites: Collection[str] | None = None,
) -> ArticleDraft:
    """The article at an address or in a file, read within the configured limits.

    With `sites` (hostnames, subdomains included), only an address on them is read and every
    redirect must stay on them.
    """
    if client is None:
        async with fetch_client(settings) as own_client:
            return await read_source(source, settings=settings, client=own_client, sites=sites)
    return await ingest(
        source,
        client=client,
        summary_sentences=settings.summary_sentences,
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        sites=sites,
    )


async def read_feed_item(item: FeedItem, *, settings: Settings, client: WebClient) -> ArticleDraft:
    """The article a feed item links to, read within the configured limits."""
    return await ingest_feed_item(
        item,
        client=client,
        summary_sentences=settings.summary_sentences,
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
    )


def read_markdown(text: str, *, name: str, settings: Settings) -> ArticleDraft:
    """The article a Markdown file's text describes (a file an admin sent, say)."""
    draft = parse_markdown_article(text, source=name)
    return summarised(draft, count=settings.summary_sentences)


async def publish_draft(
    db: Database,
    draft: ArticleDraft,
    *,
    origin: FeedOrigin | None = None,
    published_by: int | None = None,
) -> PublishResult:
    """Store and queue the article unless it was published before; one transaction.
    `published_by` is the admin who asked (None for feed items)."""
    try:
        return await _publish(db, draft, origin, published_by)
    except IntegrityError:
        # Someone stored the same article between our read and our write: theirs stands.
        return await _publish(db, draft, origin, published_by)


async def _publish(
    db: Database, draft: ArticleDraft, origin: FeedOrigin | None, published_by: int | None
) -> PublishResult:
    async with db.transaction() as session:
        # Only this draft, just read by the publisher, is pushed: a draft stored before (by an
        # autocard, from whatever page named this address) is set aside rather than published,
        # which is simpler to trust than merging fields and a poll that may have votes already.
        stored = await articles.store_for_publishing(session, draft=draft)
        article = stored.article
        if article.id is None:
            raise RuntimeError("a stored article has an id")
        if not stored.created:
            result = PublishResult(
                article.id, article.title, 0, article.pushed_at or article.created_at
            )
        else:
            queued = await deliveries.queue_article(session, article_id=article.id)
            await articles.mark_published(
                session, article_id=article.id, published_by=published_by
            )
            result = PublishResult(article.id, article.title, queued)
        if origin is not None:
            await feeds.mark_seen(
                session, key=origin.key, feed_url=origin.feed_url, article_id=article.id
            )
        return result


async def publish_source(
    db: Database,
    source: str,
    *,
    settings: Settings,
    client: WebClient | None = None,
    published_by: int | None = None,
) -> PublishResult:
    """Ingest `source` (address, .md or .html file) and publish it, by the admin
    `published_by` when one asked. Raises IngestError."""
    draft = await read_source(source, settings=settings, client=client)
    return await publish_draft(db, draft, published_by=published_by)


def describe(result: PublishResult, *, zone: ZoneInfo) -> str:
    """The outcome in one sentence for the admin who published, then the headline it concerns
    (what readers get, or got before), so the admin sees which article it was."""
    if result.already_published_at is not None:
        moment = result.already_published_at.astimezone(zone)
        outcome = (
            f"Article {result.article_id} was already published on "
            f"{moment:%Y-%m-%d %H:%M} ({zone.key}); nothing sent."
        )
    else:
        chats = "chat" if result.queued == 1 else "chats"
        outcome = f"Published article {result.article_id}: queued for {result.queued} {chats}."
    return f"{outcome}\nHeadline: {_headline(result.title)}"


def _headline(title: str) -> str:
    # A page's title has no length limit; the admin's message has Telegram's.
    if len(title) <= HEADLINE_SHOWN:
        return title
    return f"{title[: HEADLINE_SHOWN - 1].rstrip()}…"


def describe_failure(error: Exception) -> str:
    """The refusal on one line, short enough for a chat message whatever the source quoted."""
    return echo(f"Could not publish: {error}", FAILURE_SHOWN)


def preview(draft: ArticleDraft) -> str:
    """What ingestion extracted, for an editor to check before publishing."""
    lines = [
        f"Title:        {draft.title}",
        f"Address:      {draft.url}",
        f"Standfirst:   {draft.standfirst or '-'}",
        f"Author:       {draft.author or '-'}",
        f"Published:    {draft.published_at.isoformat() if draft.published_at else '-'}",
        f"Reading time: {draft.reading_minutes} min",
        f"Image:        {draft.image_url or '-'}",
        f"Topics:       {', '.join(draft.topics) or '-'}",
        f"Fact:         {draft.fact or '-'}",
    ]
    if draft.poll is None:
        lines.append("Poll:         -")
    else:
        lines.append(f"Poll:         {draft.poll.question}")
        lines += [f"  - {option}" for option in draft.poll.options]
    lines.append("Key points:" if draft.key_points else "Key points:   -")
    lines += [f"  • {point}" for point in draft.key_points]
    lines.append("Related:" if draft.related else "Related:      -")
    lines += [f"  • {link.title} <{link.url}>" for link in draft.related]
    return "\n".join(lines)
