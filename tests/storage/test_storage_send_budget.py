"""The send budget two workers share through the database: reserved blocks of bot-wide instants
never overlap, a chat taken for an instant keeps its spacing, holds only move later; and the
join serial each worker acknowledges in its heartbeat."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage import leases, send_budget
from storage.engine import Database

INTERVAL = 0.01
# Long enough that every racing reservation comes before the lane's reserved instants run out.
SLOW_INTERVAL = 1.0
TTL = timedelta(seconds=5)


@pytest.fixture(name="other_db")
async def other_db_fixture(db: Database) -> AsyncIterator[Database]:
    """A second engine on the same (migrated) database, as a second worker process has."""
    other = Database.connect(db.url.render_as_string(hide_password=False))
    yield other
    await other.dispose()


async def _reserve(db: Database, count: int, interval: float = INTERVAL) -> send_budget.Block:
    async with db.transaction() as session:
        return await send_budget.reserve(session, lane="bot", count=count, interval=interval)


async def _take(db: Database, chat: str, at: float, spacing: float = 1.0) -> float | None:
    async with db.transaction() as session:
        return await send_budget.take_chat(session, chat=chat, at=at, spacing=spacing)


async def _now(db: Database) -> float:
    async with db.transaction() as session:
        return await send_budget.clock(session)


async def test_two_workers_blocks_never_overlap(db: Database, other_db: Database) -> None:
    """Blocks reserved at once from two engines hold distinct instants, each exactly one
    interval after the one before (no gap, no overlap), none before the database's clock."""
    before = await _now(db)
    blocks = await asyncio.gather(
        *(_reserve(engine, 5, SLOW_INTERVAL) for engine in (db, other_db) * 10)
    )
    instants = sorted(at for block in blocks for at in block.instants())
    assert len(instants) == 100
    gaps = [later - earlier for earlier, later in itertools.pairwise(instants)]
    assert gaps == pytest.approx([SLOW_INTERVAL] * 99)
    assert instants[0] >= before


async def test_a_lane_left_idle_starts_again_from_now(db: Database) -> None:
    """Instants nobody reserved in time are gone: a later block starts at the clock, not at the
    end of the last block."""
    first = await _reserve(db, count=2)
    await asyncio.sleep(0.1)
    later = await _reserve(db, count=2)
    assert later.first >= first.first + 0.09
    assert later.first <= later.now


async def test_a_taken_chat_waits_its_spacing(db: Database, other_db: Database) -> None:
    """A chat taken for an instant refuses another worker's message a second later less a
    little, says when it is free, and takes one from then on."""
    at = await _now(db) + 10
    assert await _take(db, "4001", at) is None
    assert await _take(other_db, "4001", at + 0.5) == pytest.approx(at + 1)
    assert await _take(other_db, "4001", at + 1) is None
    assert await _take(db, "4001", at + 1.5) == pytest.approx(at + 2)
    # Other chats are not held by this one.
    assert await _take(db, "@channel", at + 0.5, spacing=3.0) is None


async def test_racing_takers_of_one_chat_get_one_turn(db: Database, other_db: Database) -> None:
    """Ten workers taking one chat for the same instant: exactly one gets it."""
    at = await _now(db) + 10
    answers = await asyncio.gather(*(_take(engine, "-1001", at) for engine in (db, other_db) * 5))
    assert answers.count(None) == 1


async def test_holds_only_move_later(db: Database) -> None:
    """A hold puts a lane's and a chat's next turn later, never earlier; reservations and
    takes respect it."""
    now = await _now(db)
    async with db.transaction() as session:
        await send_budget.hold(session, lanes={"bot": now + 30}, chats={"4002": now + 30})
        await send_budget.hold(session, lanes={"bot": now + 5}, chats={"4002": now + 5})
        found = await send_budget.holds(session, within=60)
    assert found.lanes["bot"] == pytest.approx(now + 30)
    assert found.chats == {"4002": pytest.approx(now + 30)}
    assert (await _reserve(db, count=1)).first == pytest.approx(now + 30)
    assert await _take(db, "4002", now + 10) == pytest.approx(now + 30)


async def test_idle_chats_are_forgotten(db: Database) -> None:
    """Chats free for longer than asked are dropped; the others stay."""
    now = await _now(db)
    await _take(db, "4003", now - 121)
    await _take(db, "4004", now + 1)
    async with db.transaction() as session:
        assert await send_budget.forget_chats(session, idle_for=60) == 1
        found = await send_budget.holds(session, within=300)
    assert set(found.chats) == {"4004"}


async def test_joins_are_numbered_and_acknowledged(db: Database, other_db: Database) -> None:
    """Each join bumps the serial and counts as acknowledged by the joiner; a beat records the
    serial its worker acknowledges; expired heartbeats drop out."""
    async with db.transaction() as session:
        assert await leases.joins(session) == 0
        assert await leases.join(session, worker="w1", ttl=TTL) == 1
    async with other_db.transaction() as session:
        assert await leases.join(session, worker="w2", ttl=TTL) == 2
        assert await leases.acknowledgements(session) == {"w1": 1, "w2": 2}
    async with db.transaction() as session:
        assert await leases.joins(session) == 2
        await leases.beat(session, worker="w1", ttl=TTL, acknowledged=2)
        await leases.beat(session, worker="w3", ttl=-TTL, acknowledged=2)
        assert await leases.acknowledgements(session) == {"w1": 2, "w2": 2}
