"""Queries behind sharing: article search by title and standfirst words, the autocards switch in
a chat's settings, and the once-per-chat autocard claim in the delivery ledger."""

from __future__ import annotations

import pytest

from newsroom.article import ArticleDraft
from storage import articles, autocards, chats
from storage.engine import Database
from storage.models import ChatKind, Delivery, DeliveryStatus


async def _published(db: Database, slug: str, title: str, standfirst: str) -> int:
    async with db.transaction() as session:
        draft = ArticleDraft(
            title=title, url=f"https://ledger.example/{slug}", standfirst=standfirst
        )
        article = (await articles.store_article(session, draft=draft)).article
        assert article.id is not None
        await articles.mark_published(session, article_id=article.id)
        return article.id


async def test_search_matches_every_word_in_title_or_standfirst(db: Database) -> None:
    """Each word may be in the title or the standfirst, any case; all words must be somewhere."""
    ferry = await _published(
        db, "ferry", "Night ferry extended", "Crews welcome the harbour plan."
    )
    gulls = await _published(db, "gulls", "Gulls on the pier", "Wardens count nests by the ferry.")
    async with db.transaction() as session:
        both = await articles.search_articles(session, text="FERRY")
        mixed = await articles.search_articles(session, text="night harbour")
        none = await articles.search_articles(session, text="night wardens")
    assert [a.id for a in both] == [gulls, ferry]
    assert [a.id for a in mixed] == [ferry]
    assert none == []


async def test_autocards_switch_and_claim(db: Database) -> None:
    """Autocards are off until set; a chat claims an article's card once, later claims get None,
    and the claim is a delivery being sent."""
    article_id = await _published(db, "ferry", "Night ferry extended", "Crews welcome it.")
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=-100, kind=ChatKind.GROUP, title="Harbour")
        assert not await autocards.autocards_enabled(session, chat_id=-100)
        assert not await autocards.autocards_enabled(session, chat_id=-999)
        assert await autocards.set_autocards(session, chat_id=-100, enabled=True) is False
    async with db.transaction() as session:
        assert await autocards.autocards_enabled(session, chat_id=-100)
        first = await autocards.claim_autocard(session, article_id=article_id, chat_id=-100)
        again = await autocards.claim_autocard(session, article_id=article_id, chat_id=-100)
        assert first is not None
        row = await session.get(Delivery, first)
    assert again is None
    assert row is not None
    assert (row.status, row.attempts, row.chat_id) == (DeliveryStatus.SENDING, 1, -100)
    with pytest.raises(autocards.UnknownChatError):
        async with db.transaction() as session:
            await autocards.set_autocards(session, chat_id=-999, enabled=True)
