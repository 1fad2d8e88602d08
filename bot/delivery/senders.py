"""What the delivery engine needs from each kind of item: how to send it, and what to record.

The engine knows nothing of articles or broadcasts. For each `DeliveryKind` one `ItemSender`
posts the item into a chat (into a forum topic when the row names one: `topic_thread`) and, in
the transaction that marks the delivery sent, records what else the send created (an article's
poll message, for instance). Senders post through `bot.telegram.lean_send`, the fan-out's hot
path: it raises what python-telegram-bot's typed methods would, so the engine's classification
is theirs.

Paid broadcasts: with ALLOW_PAID_BROADCAST set, a sender passes ``allow_paid_broadcast=True``
on every send it makes (`paid_broadcast_flag`); the SendLimiter then paces those sends at
the paid rate (1000/s) instead of the bot-wide one.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot


class ItemSender(Protocol):
    async def send(
        self, bot: Bot, *, chat_id: int, item_id: int, plain: bool, thread_id: int
    ) -> int:
        """Post item `item_id` into `chat_id`; return the id of the message with the keyboard.

        `thread_id` is the forum topic to post in (0: the chat itself, or a forum's General
        topic): every send passes ``message_thread_id=topic_thread(thread_id)``.
        `plain=True` is the one retry after Telegram could not parse the markup: send the
        same content without parse_mode. Telegram errors propagate to the engine, which
        classifies them (bot.telegram.errors) and retries, skips or stops the chat.
        """
        ...

    async def after_sent(
        self, session: AsyncSession, *, chat_id: int, item_id: int, message_id: int
    ) -> None:
        """Runs in the transaction that marks the delivery sent; must not call Telegram."""
        ...


def topic_thread(thread_id: int) -> int | None:
    """The ``message_thread_id`` argument of a send: the topic, or left out (None) for 0."""
    return thread_id or None


def paid_broadcast_flag(paid: bool) -> bool | None:
    """The ``allow_paid_broadcast`` argument of a send: True when paid, else left out (None)."""
    return True if paid else None
