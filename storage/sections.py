"""Which chats follow which sections, as SQL conditions on Chat: `Chat.topics` is a JSON array
of the sections a chat follows, and an empty one means every section."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat


def followed_sections(session: AsyncSession) -> sa.TableValuedAlias:
    """Each section a chat follows, as a table of one `value` column to join or select from."""
    # Chat.topics is a JSON array; each dialect spells "its elements" with its own function.
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.json_array_elements_text(col(Chat.topics)).table_valued("value")
    return sa.func.json_each(col(Chat.topics)).table_valued("value")


def follows_all() -> sa.ColumnElement[bool]:
    """A condition on Chat: it follows every section."""
    # json_array_length is spelled alike in SQLite and PostgreSQL.
    return sa.func.coalesce(sa.func.json_array_length(col(Chat.topics)), 0) == 0


def follows_any(session: AsyncSession, sections: Collection[str]) -> sa.ColumnElement[bool]:
    """A condition on Chat: it follows every section (an empty list) or one of these."""
    elements = followed_sections(session)
    chosen = select(sa.literal(1)).select_from(elements).where(elements.c.value.in_(sections))
    return sa.or_(follows_all(), sa.exists(chosen))
