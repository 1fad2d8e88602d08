"""Queries about Telegram users. Every function takes the caller's session and never commits."""

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import User
from storage.types import utcnow
from storage.upsert import upsert


async def upsert_user(
    session: AsyncSession,
    *,
    user_id: int,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    language: str | None = None,
) -> User:
    """Record the user as Telegram shows them now, in one statement; return the row."""
    now = utcnow()
    return await upsert(
        session,
        User,
        values={
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language": language,
            "created_at": now,
            "last_seen_at": now,
        },
        conflict_columns=["id"],
        update_columns=["first_name", "last_name", "username", "language", "last_seen_at"],
        # Telegram leaves language_code out of some updates; that does not mean it changed.
        keep_when_null=["language"],
    )


async def get_user(session: AsyncSession, *, user_id: int) -> User | None:
    return await session.get(User, user_id)
