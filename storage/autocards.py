"""Autocards: whether a group wants cards for article links, and the once-per-chat claim.

The switch lives in the chat's settings (``"autocards": true``). An autocard is an article
delivery like any other, so it is claimed in the delivery ledger: one row per (article, chat)
means a chat never gets the same card twice, whether it came by push or by autocard. The row is
inserted 'sending' and finished with ``storage.deliveries.mark_sent`` or ``end_rows``; a process
that dies in between leaves it to the delivery engine, which sends it on the next start.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat, Delivery, DeliveryKind, DeliveryStatus
from storage.types import utcnow

AUTOCARDS = "autocards"


class UnknownChatError(LookupError):
    """The chat has no row yet: record it with `storage.chats.upsert_chat` first."""


async def autocards_enabled(session: AsyncSession, *, chat_id: int) -> bool:
    """Whether the chat's admins turned autocards on (an unknown chat has not)."""
    chat = await session.get(Chat, chat_id)
    return chat is not None and chat.settings.get(AUTOCARDS) is True


async def set_autocards(session: AsyncSession, *, chat_id: int, enabled: bool) -> bool:
    """Turn autocards on or off for a stored chat; returns whether they were on before."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        raise UnknownChatError(chat_id)
    before = chat.settings.get(AUTOCARDS) is True
    # A new dict: the JSON column notices assignments, not changes made in place.
    chat.settings = {**chat.settings, AUTOCARDS: enabled}
    chat.updated_at = utcnow()
    session.add(chat)
    await session.flush()
    return before


async def claim_autocard(session: AsyncSession, *, article_id: int, chat_id: int) -> int | None:
    """Claim the article's card for the chat: the new delivery's id, or None when the chat
    already has (or is getting) this article. One statement, safe against a concurrent claim."""
    now = utcnow()
    values = {
        "kind": DeliveryKind.ARTICLE,
        "article_id": article_id,
        "chat_id": chat_id,
        "status": DeliveryStatus.SENDING,
        "attempts": 1,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(Delivery).values(values)
    elif dialect == "postgresql":
        statement = postgresql.insert(Delivery).values(values)
    else:
        raise NotImplementedError(f"no autocard claim for the {dialect} dialect")
    claimed = statement.on_conflict_do_nothing(
        index_elements=["article_id", "chat_id", "thread_id"]
    )
    result = await session.exec(claimed.returning(col(Delivery.id)))
    delivery_id: int | None = result.scalar_one_or_none()
    return delivery_id
