"""Leases, heartbeats and poll change counters: what several bot processes coordinate through."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from storage import leases, poll_changes, polls
from storage.engine import Database
from storage.models import Article, Lease
from storage.types import utcnow

TTL = timedelta(seconds=5)


async def _take(db: Database, holder: str, name: str = "leader") -> bool:
    async with db.transaction() as session:
        return await leases.take(session, name=name, holder=holder, ttl=TTL)


async def test_a_lease_has_one_holder_until_it_expires_or_is_given_up(db: Database) -> None:
    """The first taker holds the lease and renews it; others get it only once it expired or was
    given up."""
    assert await _take(db, "a")
    assert await _take(db, "a")
    assert not await _take(db, "b")
    async with db.transaction() as session:
        await session.exec(sa.update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await _take(db, "b")
    assert not await _take(db, "a")
    async with db.transaction() as session:
        await leases.give_up(session, name="leader", holder="b")
        assert await leases.holder_of(session, name="leader") is None
    assert await _take(db, "a")


async def test_racing_takers_get_one_winner(db: Database) -> None:
    """Ten processes taking a free lease at once: exactly one succeeds."""
    outcomes = await asyncio.gather(*(_take(db, f"worker-{n}") for n in range(10)))
    assert sum(outcomes) == 1


async def test_live_workers_are_the_unexpired_heartbeats(db: Database) -> None:
    """Each worker's heartbeat counts while it lasts; expired ones are swept."""
    async with db.transaction() as session:
        for worker in ("w1", "w2", "w3"):
            await leases.beat(session, worker=worker, ttl=TTL)
        await leases.take(session, name="leader", holder="w1", ttl=TTL)
        await session.exec(
            sa.update(Lease)
            .where(col(Lease.name) == "worker:w2")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    async with db.transaction() as session:
        assert await leases.live_workers(session) == ["w1", "w3"]
        await leases.sweep_workers(session)
        names = (await session.exec(select(col(Lease.name)).order_by(col(Lease.name)))).all()
    assert list(names) == ["leader", "worker:w1", "worker:w3"]


async def test_marking_messages_dirty_counts_a_change_of_the_poll(db: Database) -> None:
    """Each stored change of a poll (votes, closing) bumps its counter; others stay put."""
    async with db.transaction() as session:
        made = []
        for name in ("a", "b"):
            article = Article(canonical_url=f"https://news.example/{name}", title=name)
            session.add(article)
            await session.flush()
            assert article.id is not None
            made.append(
                await polls.create_poll(
                    session, article_id=article.id, question="Q?", options=["Yes", "No"]
                )
            )
        first, second = made
        assert first.id is not None
        assert second.id is not None
    async with db.transaction() as session:
        await polls.mark_messages_dirty(session, poll_ids=[first.id])
        before = await poll_changes.serials(session)
        await polls.mark_messages_dirty(session, poll_ids=[first.id, second.id])
        await polls.close_poll(session, poll_id=first.id)
        after = await poll_changes.serials(session)
    assert before == {first.id: 1}
    assert after == {first.id: 3, second.id: 1}
