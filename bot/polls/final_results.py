"""A closed poll's final results chart: to the admin who published it, and as a reply to each
channel copy.

An article an admin published (/publish, or scheduled by one) records who did; its chart goes to
them. One nobody published by hand (a feed item, one published before that was recorded, or one
whose publisher is no longer an admin) goes to every admin in ADMIN_IDS; either way only to
admins who have a private chat with the bot and have not blocked it. Each channel copy of the
card still standing gets the chart as a reply. A poll closed without votes has nothing to plot:
the admins get one line saying so, the channels nothing. A send that fails is logged and costs
no other recipient its chart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from telegram import Bot, ReplyParameters
from telegram.error import TelegramError

from bot.reports import charts
from newsroom.plaintext import shorten, tidy
from newsroom.tally import format_count
from storage import articles, chats, poll_messages, polls
from storage.engine import Database

log = logging.getLogger(__name__)

NO_VOTES = "Poll {id} closed without votes: there is nothing to plot."
_QUESTION_SHOWN = 200


class FinalResults:
    """Sends a closed poll's final results chart where it belongs."""

    def __init__(self, *, db: Database, bot: Bot, admin_ids: Collection[int]) -> None:
        self._db = db
        self._bot = bot
        self._admin_ids = frozenset(admin_ids)

    async def poll_closed(self, poll_id: int) -> None:
        """Draw the poll's final chart and send it to the admins and the channel copies."""
        async with self._db.transaction() as session:
            results = await polls.poll_results(session, poll_id=poll_id)
            if results is None:
                return
            copies = await poll_messages.channel_copies(session, poll_id=poll_id)
            publisher = await articles.publisher_of(session, article_id=results.record.article_id)
            # A publisher since removed from ADMIN_IDS is no longer told: the admins are.
            recipients = {publisher} if publisher in self._admin_ids else self._admin_ids
            admins = await chats.reachable_private_chats(session, user_ids=recipients)
        record, tally = results.record, results.tally
        png = await asyncio.to_thread(
            charts.poll_results_chart, record.question, record.options, tally.counts
        )
        question = shorten(tidy(record.question), _QUESTION_SHOWN) or "Poll"
        if png is None:
            for admin_id in admins:
                await self._send(admin_id, text=NO_VOTES.format(id=poll_id))
            return
        caption = f"🔒 Final results: {question} ({format_count(tally.total)} votes)"
        for admin_id in admins:
            await self._send(admin_id, png=png, text=f"{caption}\nPoll {poll_id}")
        for chat_id, message_id in copies:
            await self._send(chat_id, png=png, text=caption, reply_to=message_id)

    async def _send(
        self, chat_id: int, *, text: str, png: bytes | None = None, reply_to: int | None = None
    ) -> None:
        # The card may have been deleted meanwhile: the chart then stands on its own.
        reply = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        try:
            if png is None:
                await self._bot.send_message(chat_id, text)
            else:
                await self._bot.send_photo(
                    chat_id, photo=png, caption=text, reply_parameters=reply
                )
        except TelegramError as error:
            log.warning("final results chart not sent to chat %s: %s", chat_id, error)
