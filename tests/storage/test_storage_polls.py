"""Poll queries: creating polls, registering the messages that show them, batched vote writes,
closing, results and the state the live-totals editor keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import poll_messages, polls, votes
from storage.engine import Database
from storage.models import Article, ResultsVisibility, RetireReason
from storage.poll_messages import MessageState
from storage.types import utcnow
from storage.votes import Choice, Voter


async def _poll(db: Database, **kwargs: object) -> tuple[int, int]:
    async with db.transaction() as session:
        article = Article(canonical_url="https://news.example/a", title="A story")
        session.add(article)
        await session.flush()
        assert article.id is not None
        poll = await polls.create_poll(
            session, article_id=article.id, question="Agree?", options=["Yes", "No"], **kwargs
        )
        assert poll.id is not None
        return article.id, poll.id


async def _vote(db: Database, poll_id: int, user_id: int, position: int, chat: int | None) -> None:
    async with db.transaction() as session:
        record = await polls.poll_record(session, poll_id=poll_id)
        assert record is not None
        await votes.upsert_voters(session, voters=[Voter(user_id=user_id, first_name="R")])
        choice = Choice(record.option_ids[position], chat)
        await votes.save_choices(session, choices={(poll_id, user_id): choice})


async def test_created_poll_is_found_and_viewed(db: Database) -> None:
    """A created poll belongs to its article and shows its options with zero votes."""
    article_id, poll_id = await _poll(db, visibility=ResultsVisibility.AFTER_VOTE)
    async with db.transaction() as session:
        poll = await polls.poll_for_article(session, article_id=article_id)
        view = await polls.poll_view(session, poll_id=poll_id)
        missing = await polls.poll_view(session, poll_id=poll_id + 1)
    assert poll is not None
    assert poll.id == poll_id
    assert view is not None
    assert view.options == ("Yes", "No")
    assert view.tally.counts == (0, 0)
    assert not view.results_visible
    assert missing is None


async def test_register_poll_message_is_idempotent(db: Database) -> None:
    """Registering the same message twice keeps one row; an inline copy is its own row."""
    _, poll_id = await _poll(db)
    async with db.transaction() as session:
        for _ in range(2):
            await polls.register_poll_message(session, poll_id=poll_id, chat_id=5, message_id=9)
        await polls.register_poll_message(session, poll_id=poll_id, inline_message_id="AgAA1")
        rows = await poll_messages.live_messages(session, poll_id=poll_id)
    assert [(r.chat_id, r.message_id, r.inline_message_id) for r in rows] == [
        (5, 9, None),
        (None, None, "AgAA1"),
    ]


async def test_register_needs_an_address(db: Database) -> None:
    """A poll message without chat and message id or inline id is refused."""
    _, poll_id = await _poll(db)
    async with db.transaction() as session:
        with pytest.raises(ValueError, match="inline_message_id"):
            await polls.register_poll_message(session, poll_id=poll_id, chat_id=5)


async def test_votes_are_one_per_reader_and_can_be_withdrawn(db: Database) -> None:
    """A reader's second choice replaces the first; withdrawing deletes the row."""
    _, poll_id = await _poll(db)
    await _vote(db, poll_id, 1, 0, 10)
    await _vote(db, poll_id, 1, 1, 10)
    await _vote(db, poll_id, 2, 1, None)
    async with db.transaction() as session:
        view = await polls.poll_view(session, poll_id=poll_id)
        held = await votes.current_choices(session, keys=[(poll_id, 1), (poll_id, 3)])
        await votes.save_choices(session, choices={(poll_id, 2): None})
        after = await polls.poll_view(session, poll_id=poll_id)
    assert view is not None
    assert after is not None
    assert view.tally.counts == (0, 2)
    assert list(held) == [(poll_id, 1)]
    assert after.tally.counts == (0, 1)


async def test_results_count_chats_and_inline_votes(db: Database) -> None:
    """Results say how many chats voted and how many votes came from shared copies."""
    _, poll_id = await _poll(db)
    await _vote(db, poll_id, 1, 0, 10)
    await _vote(db, poll_id, 2, 0, 10)
    await _vote(db, poll_id, 3, 1, 11)
    await _vote(db, poll_id, 4, 1, None)
    async with db.transaction() as session:
        results = await polls.poll_results(session, poll_id=poll_id)
    assert results is not None
    assert results.tally.counts == (2, 2)
    assert results.chats == 2
    assert results.inline_votes == 1


async def test_closing_marks_messages_dirty_once(db: Database) -> None:
    """Closing an open poll marks its messages for a final edit; closing again does nothing."""
    _, poll_id = await _poll(db)
    async with db.transaction() as session:
        await polls.register_poll_message(
            session, poll_id=poll_id, chat_id=5, message_id=9, shown_hash="abc"
        )
        assert await polls.polls_due_to_close(session, now=utcnow()) == []
    async with db.transaction() as session:
        assert await polls.close_poll(session, poll_id=poll_id)
        assert not await polls.close_poll(session, poll_id=poll_id)
        assert await poll_messages.polls_to_refresh(session) == [poll_id]


async def test_due_polls_and_next_closing(db: Database) -> None:
    """A poll whose closing time has passed is due; the next closing time is reported."""
    closes = utcnow() + timedelta(minutes=5)
    _, poll_id = await _poll(db, closes_at=closes)
    async with db.transaction() as session:
        assert await polls.next_closing(session) == closes
        assert await polls.polls_due_to_close(session, now=utcnow()) == []
        due = await polls.polls_due_to_close(session, now=closes + timedelta(seconds=1))
    assert due == [poll_id]


async def test_message_states_and_retirement(db: Database) -> None:
    """Saved states come back on reload; retired messages are no longer live."""
    _, poll_id = await _poll(db)
    async with db.transaction() as session:
        await polls.register_poll_message(session, poll_id=poll_id, chat_id=5, message_id=9)
        await polls.register_poll_message(session, poll_id=poll_id, chat_id=6, message_id=1)
        first, second = await poll_messages.live_messages(session, poll_id=poll_id)
        when = utcnow()
        await poll_messages.save_states(
            session,
            states=[MessageState(id=first.id, shown_hash="h1", dirty=False, next_edit_at=when)],
        )
        await poll_messages.retire(
            session, message_ids=[second.id], reason=RetireReason.UNREACHABLE
        )
        [kept] = await poll_messages.live_messages(session, poll_id=poll_id)
    assert kept.id == first.id
    assert kept.shown_hash == "h1"
    assert kept.next_edit_at == when
