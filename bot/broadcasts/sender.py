"""Sending one broadcast into one chat (or forum topic): HTML text, or a copy of the admin's
message."""

from __future__ import annotations

import asyncio
import html
import re
from collections import OrderedDict
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.constants import ParseMode

from bot.delivery.senders import paid_broadcast_flag, topic_thread
from bot.telegram import lean_send
from storage.engine import Database
from storage.models import Broadcast

# A fan-out sends one broadcast thousands of times: its content is read once, not per chat.
_CACHED_BROADCASTS = 16
_TAG = re.compile(r"<[^>]*>")


def html_to_plain(text: str) -> str:
    """What the reader would have seen, without the markup Telegram could not parse."""
    return html.unescape(_TAG.sub("", text))


@dataclass(frozen=True)
class _Content:
    html: str | None
    copy_from_chat_id: int | None
    copy_message_id: int | None


class BroadcastSender:
    """The ItemSender for broadcasts."""

    def __init__(self, db: Database, *, paid: bool = False) -> None:
        self._db = db
        self._paid = paid_broadcast_flag(paid)
        self._cache: OrderedDict[int, _Content] = OrderedDict()
        # Sends of a new broadcast start together: one of them reads it, the others wait.
        self._loading = asyncio.Lock()

    async def _content(self, broadcast_id: int) -> _Content:
        if (content := self._cache.get(broadcast_id)) is not None:
            self._cache.move_to_end(broadcast_id)
            return content
        async with self._loading:
            if (content := self._cache.get(broadcast_id)) is not None:
                return content
            return await self._load(broadcast_id)

    async def _load(self, broadcast_id: int) -> _Content:
        async with self._db.transaction() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise LookupError(f"broadcast {broadcast_id} does not exist")
        content = _Content(broadcast.html, broadcast.copy_from_chat_id, broadcast.copy_message_id)
        self._cache[broadcast_id] = content
        if len(self._cache) > _CACHED_BROADCASTS:
            self._cache.popitem(last=False)
        return content

    async def send(
        self, bot: Bot, *, chat_id: int, item_id: int, plain: bool, thread_id: int
    ) -> int:
        content = await self._content(item_id)
        # The fan-out's hot path: posted lean (bot.telegram.lean_send), errors as ever.
        if content.copy_from_chat_id is not None and content.copy_message_id is not None:
            return await lean_send.send(
                bot,
                "copyMessage",
                {
                    "chat_id": chat_id,
                    "from_chat_id": content.copy_from_chat_id,
                    "message_id": content.copy_message_id,
                    "allow_paid_broadcast": self._paid,
                    "message_thread_id": topic_thread(thread_id),
                },
            )
        text = content.html or ""
        return await lean_send.send(
            bot,
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": html_to_plain(text) if plain else text,
                "parse_mode": None if plain else ParseMode.HTML,
                "allow_paid_broadcast": self._paid,
                "message_thread_id": topic_thread(thread_id),
            },
        )

    async def after_sent(
        self, session: AsyncSession, *, chat_id: int, item_id: int, message_id: int
    ) -> None:
        """A broadcast leaves nothing else to record."""
        del session, chat_id, item_id, message_id
