"""Sending one digest into its chat (or forum topic): the delivery engine's sender of digests.

A digest of several messages is sent by its one ledger row, message after message, and each
message sent is recorded on the digest before the next goes out. So a row retried after a flood
wait, a timeout or a crash resumes after the messages already out: a crash repeats at most the
one message whose send was not yet recorded (the bound is in docs/DELIVERY.md).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.constants import ParseMode

from bot.delivery.senders import paid_broadcast_flag, topic_thread
from bot.digests.message import digest_messages
from bot.telegram import lean_send
from storage import digests
from storage.engine import Database

# The links are the digest: no preview card of the first one under it.
_NO_PREVIEW = {"is_disabled": True}


class DigestSender:
    """The ItemSender for digests; `item_id` is the digest."""

    def __init__(self, db: Database, *, paid: bool = False) -> None:
        self._db = db
        self._paid = paid_broadcast_flag(paid)

    async def send(
        self, bot: Bot, *, chat_id: int, item_id: int, plain: bool, thread_id: int
    ) -> int:
        """Send the digest's messages not sent yet (into the forum topic `thread_id`, if not 0);
        return the id of its last message."""
        async with self._db.transaction() as session:
            digest = await digests.get_digest(session, digest_id=item_id)
            if digest is None:
                raise LookupError(f"digest {item_id} does not exist")
            listed = await digests.digest_articles(session, digest=digest)
        messages = digest_messages(listed, period=digest.period, bot_username=bot.username)
        if not messages:
            # Every article it listed was withdrawn since: the row fails with this reason.
            raise LookupError(f"digest {item_id} has no article left to list")
        last = digest.last_message_id or 0
        for number, message in enumerate(messages[digest.parts_sent :], digest.parts_sent + 1):
            last = await lean_send.send(
                bot,
                "sendMessage",
                {
                    "chat_id": chat_id,
                    "text": message.plain if plain else message.html,
                    "parse_mode": None if plain else ParseMode.HTML,
                    "message_thread_id": topic_thread(thread_id),
                    "link_preview_options": _NO_PREVIEW,
                    "allow_paid_broadcast": self._paid,
                },
            )
            async with self._db.transaction() as session:
                await digests.record_part_sent(
                    session, digest_id=item_id, parts_sent=number, message_id=last
                )
        return last

    async def after_sent(
        self, session: AsyncSession, *, chat_id: int, item_id: int, message_id: int
    ) -> None:
        """Nothing more to record: each message was recorded as it went out."""
        del session, chat_id, item_id, message_id
