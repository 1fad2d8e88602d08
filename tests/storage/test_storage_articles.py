"""Storing articles once, with their polls; the newest and searched articles; feed state and
the record of feed items already dealt with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from newsroom.article import ArticleDraft, PollDraft, RelatedLink
from storage import articles, feeds, polls
from storage.chats import upsert_chat
from storage.engine import Database
from storage.models import Article, ArticleStatus, ChatKind, Delivery, DeliveryKind, DeliveryStatus


def _draft(slug: str, *, title: str = "Harbour news", guid: str | None = None) -> ArticleDraft:
    return ArticleDraft(
        title=title,
        url=f"https://ledger.example/{slug}",
        standfirst="The tide came in.",
        key_points=("One point.",),
        fact="Seagrass stores carbon.",
        related=(RelatedLink("Dunes", "https://ledger.example/dunes"),),
        poll=PollDraft("Should moorings move?", ("Yes", "No")),
        source_guid=guid,
    )


async def test_store_article_once_by_address_or_guid(db: Database) -> None:
    """A draft stored twice, or again under the same guid, gives back the first row."""
    async with db.transaction() as session:
        first = await articles.store_article(session, draft=_draft("a", guid="g-1"))
        again = await articles.store_article(session, draft=_draft("a"))
        same_guid = await articles.store_article(session, draft=_draft("b", guid="g-1"))
    assert first.created
    assert not again.created
    assert not same_guid.created
    assert again.article.id == same_guid.article.id == first.article.id
    assert first.article.status == ArticleStatus.DRAFT
    assert first.article.related == [{"title": "Dunes", "url": "https://ledger.example/dunes"}]


async def test_store_article_creates_its_poll(db: Database) -> None:
    """The draft's poll is stored with its options, and results show always."""
    async with db.transaction() as session:
        stored = await articles.store_article(session, draft=_draft("poll"))
        assert stored.article.id is not None
        poll = await polls.poll_for_article(session, article_id=stored.article.id)
        assert poll is not None
        assert poll.id is not None
        view = await polls.poll_view(session, poll_id=poll.id)
    assert view is not None
    assert (view.question, view.options, view.results_visible) == (
        "Should moorings move?",
        ("Yes", "No"),
        True,
    )


async def test_latest_and_search_see_published_articles_only(db: Database) -> None:
    """Drafts stay hidden; the latest is the last published; search matches title words."""
    async with db.transaction() as session:
        old = (await articles.store_article(session, draft=_draft("o", title="Old pier"))).article
        new = (await articles.store_article(session, draft=_draft("n", title="New pier"))).article
        draft = await articles.store_article(session, draft=_draft("d", title="Pier draft"))
        assert old.id is not None
        assert new.id is not None
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        await articles.mark_published(session, article_id=old.id, at=moment)
        await articles.mark_published(session, article_id=new.id, at=moment + timedelta(hours=1))
        latest = await articles.latest_article(session)
        found = await articles.search_articles(session, text="pier")
        only_new = await articles.search_articles(session, text="NEW 100%")
        hidden = await articles.get_published_article(session, article_id=draft.article.id or 0)
    assert latest is not None
    assert latest.id == new.id
    assert [a.id for a in found] == [new.id, old.id]
    assert only_new == []
    assert hidden is None


async def test_feed_state_and_seen_items(db: Database) -> None:
    """A new feed starts at its first poll; success keeps validators, errors keep them too;
    an item key is recorded once."""
    url = "https://ledger.example/feed.xml"
    async with db.transaction() as session:
        state = await feeds.feed_state(session, url=url)
        assert state.first_poll
        await feeds.record_feed_success(session, url=url, etag='"v1"', last_modified=None)
        await feeds.record_feed_error(session, url=url, error="timed out")
        later = await feeds.feed_state(session, url=url)
        stored = await feeds.get_feed(session, url=url)
        first = await feeds.mark_seen(session, key="g-1", feed_url=url, article_id=None)
        second = await feeds.mark_seen(session, key="g-1", feed_url=url, article_id=None)
        seen = await feeds.seen_keys(session, keys=["g-1", "g-2"])
    assert not later.first_poll
    assert later.etag == '"v1"'
    assert later.first_seen_at == state.first_seen_at
    assert stored is not None
    assert stored.last_error == "timed out"
    assert (first, second, seen) == (True, False, {"g-1"})


async def test_publishing_sets_an_unpublished_draft_aside_with_its_pending_cards(
    db: Database,
) -> None:
    """A draft stored under the address (by an autocard) is withdrawn when the publisher's own
    read is stored, and its card still waiting to go to a group is cancelled."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=-100, kind=ChatKind.GROUP, title="Club")
        forged = (await articles.store_article(session, draft=_draft("a", title="Forged"))).article
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=forged.id, chat_id=-100))
    async with db.transaction() as session:
        stored = await articles.store_for_publishing(session, draft=_draft("a", title="Real"))
    async with db.transaction() as session:
        old = await session.get(Article, forged.id)
        rows = (await session.exec(select(Delivery))).all()
    assert stored.created
    assert stored.article.title == "Real"
    assert stored.article.canonical_url == "https://ledger.example/a"
    assert old is not None
    assert old.status == ArticleStatus.WITHDRAWN
    assert [(row.status, row.failure) for row in rows] == [
        (DeliveryStatus.CANCELLED, articles.SET_ASIDE)
    ]
