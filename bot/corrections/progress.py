"""The admin's view of a running correction: the preview they confirmed, edited as the copies
change (at most every `PROGRESS_EDIT_SECONDS`), then into the final report.

The ledger is the truth: each look counts the correction's rows by what became of them. The
report is written once the last row has ended; if it cannot be edited in, it is posted anew.
"""

from __future__ import annotations

import logging
import time

from telegram import Bot
from telegram.error import TelegramError

from bot.broadcasts.progress import duration
from bot.corrections import texts
from bot.telegram.errors import Failure, classify
from storage import corrections
from storage.engine import Database
from storage.models import Correction
from storage.types import utcnow

log = logging.getLogger(__name__)

PROGRESS_EDIT_SECONDS = 3.0
# Once no change is under way, the report is looked for this soon.
DRAINED_LOOK_SECONDS = 0.5


class CorrectionProgress:
    """Keeps each running correction's message up to date, then reports its end."""

    def __init__(self, db: Database, bot: Bot, *, interval: float = PROGRESS_EDIT_SECONDS) -> None:
        self._db = db
        self._bot = bot
        self._interval = interval
        self._shown: dict[int, str] = {}
        self._looked_at = -1e9

    @property
    def watching(self) -> bool:
        """Some correction was running at the last look."""
        return bool(self._shown)

    def due(self, *, drained: bool = False) -> bool:
        """Whether to look again: every `interval`, or soon once changes ran out (the report
        may be ready)."""
        wait = min(self._interval, DRAINED_LOOK_SECONDS) if drained else self._interval
        return time.monotonic() - self._looked_at >= wait

    async def look(self, *, in_flight: set[int]) -> None:
        """Show every running correction's progress; report those whose rows have all ended
        (`in_flight`: corrections with a change under way here)."""
        self._looked_at = time.monotonic()
        async with self._db.transaction() as session:
            running = await corrections.running_corrections(session)
            counted = [
                (correction, await corrections.counts(session, correction_id=correction.id or 0))
                for correction in running
            ]
        for correction, counts in counted:
            correction_id = correction.id or 0
            if counts.remaining == 0 and correction_id not in in_flight:
                async with self._db.transaction() as session:
                    finished = await corrections.finish(
                        session, correction_id=correction_id, final=counts
                    )
                if finished is not None:
                    took = (utcnow() - (finished.confirmed_at or utcnow())).total_seconds()
                    text = texts.report(
                        finished.action, finished.article_id, counts, duration(took)
                    )
                    await self._show(finished, text, final=True)
                    log.info("correction %s ended: %s", correction_id, counts)
                self._shown.pop(correction_id, None)
                continue
            text = texts.progress(correction.action, correction.article_id, counts)
            if self._shown.get(correction_id) != text:
                await self._show(correction, text)

    async def _show(self, correction: Correction, text: str, *, final: bool = False) -> None:
        correction_id = correction.id or 0
        chat_id = correction.progress_chat_id or correction.author_id
        self._shown[correction_id] = text
        if correction.progress_message_id is not None:
            try:
                await self._bot.edit_message_text(
                    text, chat_id=chat_id, message_id=correction.progress_message_id
                )
                return
            except TelegramError as error:
                failure = classify(error)
                if failure is Failure.NOT_MODIFIED:
                    return
                log.warning("progress of correction %s not edited: %s", correction_id, error)
                if not final and failure is not Failure.MESSAGE_GONE:
                    return
        try:
            message = await self._bot.send_message(chat_id, text)
        except TelegramError as error:  # the admin's view only: the correction itself goes on
            log.warning("progress of correction %s could not be posted: %s", correction_id, error)
            return
        async with self._db.transaction() as session:
            await corrections.set_progress_message(
                session,
                correction_id=correction_id,
                chat_id=chat_id,
                message_id=message.message_id,
            )
