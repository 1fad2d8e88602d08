"""Helpers for delivery tests: many subscribers at once, in the emulator and the bot's database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select

from emulator.simulation import Emulator, SimChat, SimUser
from emulator.state import Member
from storage import chats
from storage.engine import Database
from storage.models import Chat, ChatKind, Delivery, DeliveryStatus
from storage.types import utcnow


async def subscribe_readers(emulator: Emulator, db: Database, count: int) -> list[SimUser]:
    """`count` readers who started the bot, stored subscribed as /subscribe leaves them."""
    readers = [emulator.create_user(f"Reader {n}") for n in range(count)]
    for reader in readers:
        emulator.private_chat(reader).started = True
    now = utcnow()
    async with db.transaction() as session:
        # One executemany: hundreds of subscribers are seeded in milliseconds.
        connection = await session.connection()
        await connection.execute(
            sa.insert(Chat),
            [
                {
                    "id": reader.id,
                    "kind": ChatKind.PRIVATE,
                    "title": reader.first_name,
                    "subscribed": True,
                    "active": True,
                    "subscribed_at": now,
                    "topics": [],
                    "settings": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for reader in readers
            ],
        )
    return readers


async def subscribe_group(
    emulator: Emulator, db: Database, owner: SimUser, title: str, *, supergroup: bool = False
) -> SimChat:
    """A group with the bot in it, stored as subscribed (without any update to the bot)."""
    group = emulator.create_group(title, creator=owner, supergroup=supergroup)
    bot = next(iter(emulator.world.bots.values()))
    group.members[bot.id] = Member(bot.user, "member")
    kind = ChatKind.SUPERGROUP if supergroup else ChatKind.GROUP
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=group.id, kind=kind, title=title)
        await chats.subscribe_chat(session, chat_id=group.id)
    return group


def received(emulator: Emulator, chat: SimChat, text: str) -> int:
    """How many bot messages in the chat show exactly `text`."""
    return sum(1 for message in emulator.bot_messages(chat) if message.text == text)


def copies_per_chat(emulator: Emulator, readers: Sequence[SimUser], text: str) -> Counter[int]:
    """For each number of copies, how many readers got that many (e.g. {1: 500})."""
    return Counter(received(emulator, emulator.private_chat(r), text) for r in readers)


async def rows_left(db: Database) -> int:
    """Deliveries still pending or in flight."""
    async with db.transaction() as session:
        rows = await session.exec(
            select(col(Delivery.id)).where(
                col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            )
        )
        return len(rows.all())
