"""Turning Telegram's chat and user objects into the storage layer's records."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Chat, ChatFullInfo, User

from storage import chats, users
from storage.models import ChatKind


def chat_kind(chat: Chat | ChatFullInfo) -> ChatKind:
    return ChatKind(chat.type)


async def remember_user(session: AsyncSession, user: User | None) -> None:
    if user is None or user.is_bot:
        return
    await users.upsert_user(
        session,
        user_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language=user.language_code,
    )


async def remember_chat(session: AsyncSession, chat: Chat | ChatFullInfo) -> None:
    """The chat as Telegram shows it now (from an update, or getChat's full info)."""
    await chats.upsert_chat(
        session,
        chat_id=chat.id,
        kind=chat_kind(chat),
        title=chat.title or chat.full_name,
        username=chat.username,
    )
