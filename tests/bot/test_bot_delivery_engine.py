"""The delivery engine against the emulator: each chat gets each item once, whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from delivery_world import copies_per_chat, received, rows_left, subscribe_group, subscribe_readers
from harness import BOT_TOKEN, wait_until
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import ExtBot

from bot.broadcasts.sender import BroadcastSender
from bot.delivery.engine import MAX_UNRECORDED_SENDS, MIN_UNRECORDED_SENDS, DeliveryEngine
from bot.telegram.limiter import SendLimiter, SendRates
from bot.telegram.transport import AiohttpRequest
from emulator.limits import RateLimits
from emulator.simulation import Emulator
from storage import broadcasts, chats, deliveries
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Chat, ChatKind, Delivery, DeliveryKind, DeliveryStatus, StopReason


@dataclass
class EngineWorld:
    emulator: Emulator
    db: Database
    bot: ExtBot[None]
    engine: DeliveryEngine


async def _world(
    emulator: Emulator, tmp_path: Path, rates: SendRates
) -> AsyncIterator[EngineWorld]:
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    await upgrade(db)
    bot: ExtBot[None] = ExtBot(
        BOT_TOKEN,
        base_url=emulator.base_url,
        rate_limiter=SendLimiter(rates),
        # The application's transport, with more connections than sends in flight.
        request=AiohttpRequest(pool_size=2 * MAX_UNRECORDED_SENDS),
    )
    await bot.initialize()
    engine = DeliveryEngine(db, bot)
    engine.register(DeliveryKind.BROADCAST, BroadcastSender(db))
    try:
        yield EngineWorld(emulator, db, bot, engine)
    finally:
        await engine.stop()
        await bot.shutdown()
        await db.dispose()


@pytest.fixture(name="engine_world")
async def engine_world_fixture(emulator: Emulator, tmp_path: Path) -> AsyncIterator[EngineWorld]:
    """An engine sending through a rate-limited bot to the emulator; nothing polls updates."""
    emulator.limits = RateLimits(bot_per_second=200)
    async for world in _world(emulator, tmp_path, SendRates(per_second=150)):
        yield world


async def _broadcast(world: EngineWorld, html: str, author_id: int = 1) -> int:
    async with world.db.transaction() as session:
        draft = await broadcasts.create_broadcast(session, author_id=author_id, html=html)
        assert draft.id is not None
        await broadcasts.start_broadcast(session, broadcast_id=draft.id, report_chat_id=author_id)
    world.engine.wake()
    return draft.id


async def _all_done(world: EngineWorld, timeout: float = 30.0) -> None:
    async def done() -> bool:
        return await rows_left(world.db) == 0

    await wait_until(done, timeout=timeout, what="every delivery to be recorded")


async def test_500_subscribers_get_the_broadcast_once_within_the_rates(
    engine_world: EngineWorld,
) -> None:
    """500 readers each get the broadcast exactly once, and Telegram never answers 429."""
    world = engine_world
    readers = await subscribe_readers(world.emulator, world.db, 500)
    await world.engine.start()
    await _broadcast(world, "<b>Polls close at 8pm</b> tonight")
    await _all_done(world)
    assert copies_per_chat(world.emulator, readers, "Polls close at 8pm tonight") == {1: 500}
    assert world.emulator.count_errors(429) == 0


@pytest.fixture(name="flooded_world")
async def flooded_world_fixture(emulator: Emulator, tmp_path: Path) -> AsyncIterator[EngineWorld]:
    """An engine that sends faster than the emulator allows, so Telegram answers 429s."""
    # Far below the engine's pace even on a slow machine, so 429s come for certain.
    emulator.limits = RateLimits(bot_per_second=15)
    async for world in _world(emulator, tmp_path, SendRates(per_second=120, max_retries=1)):
        yield world


async def test_nothing_is_lost_under_429s_blocks_and_a_migration(
    flooded_world: EngineWorld,
) -> None:
    """With 429s, blocked readers, a vanished chat and a migrated group, every reachable chat
    gets the broadcast once, and unreachable ones are marked inactive with the reason."""
    world, emu = flooded_world, flooded_world.emulator
    readers = await subscribe_readers(emu, world.db, 150)
    owner = emu.create_user("Owner")
    group = await subscribe_group(emu, world.db, owner, "Readers' club")
    supergroup = await emu.upgrade_to_supergroup(group)
    blocked = readers[:5]
    for reader in blocked:
        emu.private_chat(reader).blocked = True
    async with world.db.transaction() as session:
        # A chat Telegram does not know (deleted account, say).
        await chats.upsert_chat(session, chat_id=-4_999_999_999, kind=ChatKind.GROUP, title="Gone")
        await chats.subscribe_chat(session, chat_id=-4_999_999_999)
    await world.engine.start()
    await _broadcast(world, "Election night live")
    await _all_done(world, timeout=60)

    reachable = readers[5:]
    assert copies_per_chat(emu, reachable, "Election night live") == {1: len(reachable)}
    assert copies_per_chat(emu, blocked, "Election night live") == {0: len(blocked)}
    assert received(emu, supergroup, "Election night live") == 1
    assert emu.count_errors(429) > 0
    async with world.db.transaction() as session:
        stopped = {
            chat.id: chat.stop_reason
            for chat in (await session.exec(select(Chat).where(col(Chat.active).is_(False))))
        }
        moved = await session.get(Chat, supergroup.id)
    assert stopped == {
        **{reader.id: StopReason.BLOCKED for reader in blocked},
        -4_999_999_999: StopReason.CHAT_NOT_FOUND,
        group.id: StopReason.MIGRATED,
    }
    assert moved is not None
    assert moved.active


async def test_broken_markup_is_sent_once_as_plain_text(engine_world: EngineWorld) -> None:
    """HTML Telegram cannot parse goes out once as plain text instead of failing."""
    world = engine_world
    readers = await subscribe_readers(world.emulator, world.db, 3)
    await world.engine.start()
    await _broadcast(world, "<b>Unclosed bold & more")
    await _all_done(world)
    assert copies_per_chat(world.emulator, readers, "Unclosed bold & more") == {1: 3}


async def test_rows_left_in_flight_resume_after_restart(engine_world: EngineWorld) -> None:
    """Rows a dead process left 'sending' are sent when the engine starts again."""
    world = engine_world
    readers = await subscribe_readers(world.emulator, world.db, 10)
    broadcast_id = await _broadcast(world, "Resumed")
    async with world.db.transaction() as session:
        await deliveries.claim_due(session, limit=4)
    await world.engine.start()
    await _all_done(world)
    assert copies_per_chat(world.emulator, readers, "Resumed") == {1: 10}
    async with world.db.transaction() as session:
        statuses = (
            await session.exec(
                select(col(Delivery.status)).where(col(Delivery.broadcast_id) == broadcast_id)
            )
        ).all()
    assert set(statuses) == {DeliveryStatus.SENT}


async def test_paid_broadcast_flag_is_sent_when_enabled(
    emulator: Emulator, tmp_path: Path
) -> None:
    """With ALLOW_PAID_BROADCAST the broadcast's sends carry allow_paid_broadcast=true."""
    async for world in _world(emulator, tmp_path, SendRates()):
        world.engine.register(DeliveryKind.BROADCAST, BroadcastSender(world.db, paid=True))
        readers = await subscribe_readers(world.emulator, world.db, 3)
        await world.engine.start()
        await _broadcast(world, "Paid")
        await _all_done(world)
        assert copies_per_chat(world.emulator, readers, "Paid") == {1: 3}
        flags = {
            str(r.params.get("allow_paid_broadcast")) for r in emulator.requests("sendMessage")
        }
        assert flags == {"True"}


@pytest.fixture(name="paced_world")
async def paced_world_fixture(emulator: Emulator, tmp_path: Path) -> AsyncIterator[EngineWorld]:
    """An engine the limiter paces at 40 sends a second, near an ordinary bot's 25."""
    emulator.limits = RateLimits(bot_per_second=200)
    async for world in _world(emulator, tmp_path, SendRates(per_second=40)):
        yield world


async def _rows_sending(db: Database) -> int:
    async with db.transaction() as session:
        statement = select(col(Delivery.id)).where(col(Delivery.status) == DeliveryStatus.SENDING)
        return len((await session.exec(statement)).all())


async def test_a_paced_fanout_keeps_the_smallest_window_in_flight(
    paced_world: EngineWorld,
) -> None:
    """At an ordinary pace, however large the audience, at most MIN_UNRECORDED_SENDS rows are
    claimed and unrecorded at once: the most /cancel lets through and a crash sends twice."""
    world = paced_world
    readers = await subscribe_readers(world.emulator, world.db, 200)
    await world.engine.start()
    await _broadcast(world, "Low tide at 6:40")
    in_flight: list[int] = []
    deadline = asyncio.get_running_loop().time() + 60
    while await rows_left(world.db):
        assert asyncio.get_running_loop().time() < deadline, "the fan-out did not finish"
        in_flight.append(await _rows_sending(world.db))
        await asyncio.sleep(0.05)
    assert copies_per_chat(world.emulator, readers, "Low tide at 6:40") == {1: 200}
    assert 0 < max(in_flight) <= MIN_UNRECORDED_SENDS
    assert world.engine.window == MIN_UNRECORDED_SENDS


class _FollowUpFailsForOneChat(BroadcastSender):
    """A broadcast sender whose follow-up renames each chat, and fails for one of them."""

    def __init__(self, db: Database, *, failing_chat_id: int) -> None:
        super().__init__(db)
        self.failing_chat_id = failing_chat_id

    async def after_sent(
        self, session: AsyncSession, *, chat_id: int, item_id: int, message_id: int
    ) -> None:
        del item_id, message_id
        await chats.upsert_chat(
            session, chat_id=chat_id, kind=ChatKind.PRIVATE, title="Followed up"
        )
        if chat_id == self.failing_chat_id:
            raise RuntimeError("follow-up failed")


async def test_a_failing_follow_up_undoes_neither_its_send_nor_the_others(
    engine_world: EngineWorld,
) -> None:
    """When one sent delivery's follow-up fails, every delivery is still recorded sent, and
    the follow-ups of the others are kept; only the failing one is undone."""
    world = engine_world
    readers = await subscribe_readers(world.emulator, world.db, 20)
    failing = readers[7]
    world.engine.register(
        DeliveryKind.BROADCAST, _FollowUpFailsForOneChat(world.db, failing_chat_id=failing.id)
    )
    await world.engine.start()
    broadcast_id = await _broadcast(world, "Ferry times changed")
    await _all_done(world)
    assert copies_per_chat(world.emulator, readers, "Ferry times changed") == {1: 20}
    async with world.db.transaction() as session:
        statuses = (
            await session.exec(
                select(col(Delivery.status)).where(col(Delivery.broadcast_id) == broadcast_id)
            )
        ).all()
        titles = {
            chat.id: chat.title
            for chat in await session.exec(
                select(Chat).where(col(Chat.id).in_([reader.id for reader in readers]))
            )
        }
    assert statuses == [DeliveryStatus.SENT] * 20
    assert titles == {
        reader.id: (reader.first_name if reader is failing else "Followed up")
        for reader in readers
    }
