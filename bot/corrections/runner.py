"""The correction runner: claims due rows of the copy-change ledger, has each copy edited or
deleted (bot/corrections/editor.py), and records what became of it.

It runs in the leading process only (a leader job, beside live totals, whose editor it shares
its merge with). Like the delivery engine it keeps at most `WINDOW` rows claimed and not yet
recorded: after a SIGKILL those are claimed again and done again, which changes nothing on
Telegram (an edit to the same content is "not modified", a second delete "not found"), so a
copy is changed exactly once whatever the restarts. Every call goes through the send limiter,
so corrections keep the same limits as sends and live totals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.articles.sender import ArticleSender
from bot.corrections.editor import Changed, CopyEditor, Later, Refused, Result
from bot.corrections.progress import DRAINED_LOOK_SECONDS, CorrectionProgress
from bot.polls.book import PollBook
from bot.polls.content import PollContent
from bot.polls.live_totals import LiveTotals
from bot.runtime.background import BackgroundLoop
from bot.telegram.errors import Failure
from storage import chats, corrections
from storage.corrections import ChangeDone, ChangeFailed, ChangeRetry, ClaimedChange
from storage.engine import Database
from storage.models import Article, CorrectionAction, RetireReason
from storage.types import utcnow

log = logging.getLogger(__name__)

# Rows claimed and not yet recorded, at most: what a crash can make the runner do twice.
WINDOW = 32
IDLE_SECONDS = 1.0
# Finished changes are gathered this long, so one transaction records several.
RECORD_GATHER_SECONDS = 0.05
STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class _Finished:
    change: ClaimedChange
    result: Result


class CorrectionRunner(BackgroundLoop):
    """Carries every confirmed correction to its copies, once each, across restarts."""

    name = "corrections"
    finishes_on_stop = True

    def __init__(
        self,
        db: Database,
        *,
        editor: CopyEditor,
        progress: CorrectionProgress,
        book: PollBook,
        content: PollContent,
        live_totals: LiveTotals,
        cards: ArticleSender,
        claimer: str,
    ) -> None:
        super().__init__(idle_seconds=IDLE_SECONDS)
        self._db = db
        self._editor = editor
        self._progress = progress
        self._book = book
        self._content = content
        self._live_totals = live_totals
        self._cards = cards
        self._claimer = claimer
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished: list[_Finished] = []
        self._in_flight: dict[int, int] = {}  # correction id -> changes under way
        self._prepared: set[int] = set()
        self._looking: asyncio.Task[None] | None = None
        self.changes_done = 0

    async def confirmed(
        self, *, correction_id: int, article_id: int, poll_id: int | None, withdrawn: bool
    ) -> None:
        """A correction was confirmed in this process: what is kept in memory of its article
        is dropped at once, and its rows start."""
        await self._prepare(correction_id, article_id, poll_id, withdrawn=withdrawn)
        self.wake()

    async def _prepare(
        self, correction_id: int, article_id: int, poll_id: int | None, *, withdrawn: bool
    ) -> None:
        if correction_id in self._prepared:
            return
        self._prepared.add(correction_id)
        # Cards not yet sent are rendered from the corrected article from now on.
        self._cards.forget(article_id)
        self._content.forget_article(article_id, poll_id)
        if poll_id is None:
            return
        if withdrawn:
            await self._book.close(poll_id)
            await self._live_totals.withdrawn(poll_id)
        else:
            # A totals edit rendered from the old article must not land after the correction.
            await self._live_totals.drop_edits(poll_id)

    async def _begin(self) -> float:
        """Rows a stopped or killed runner left in flight are claimed again."""
        async with self._db.transaction() as session:
            released = await corrections.release_in_flight(session)
        if released:
            log.warning("%s copy changes were under way when the bot stopped: again", released)
        return 0.0

    async def _end(self) -> None:
        if self._looking is not None:
            self._looking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._looking
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Rows of cancelled changes stay 'sending' and are claimed again at the next start.
        with contextlib.suppress(Exception):
            await self._record_and_claim(claim=False)

    async def _round(self) -> float:
        if self._finished and len(self._tasks) >= WINDOW // 2:
            await asyncio.sleep(RECORD_GATHER_SECONDS)
        try:
            more = await self._record_and_claim(claim=not self.stopping)
        except Exception:
            log.exception("corrections: recording or claiming failed; retrying")
            more = False
            await asyncio.sleep(IDLE_SECONDS)
        drained = not self._tasks and not self._finished
        looking = self._looking is not None and not self._looking.done()
        if self._progress.due(drained=drained) and not self.stopping and not looking:
            # Its own task: the admin's chat takes its turns, the copies need not wait for them.
            self._looking = asyncio.create_task(self._look())
        if more:
            return 0.0
        return DRAINED_LOOK_SECONDS if drained and self._progress.watching else IDLE_SECONDS

    async def _look(self) -> None:
        try:
            await self._progress.look(in_flight=set(self._in_flight))
        except Exception:
            log.exception("corrections: progress not shown; retrying")

    async def _record_and_claim(self, *, claim: bool) -> bool:
        """Record every finished change and claim the next rows, in one transaction; whether
        more rows may be due at once."""
        finished, self._finished = self._finished, []
        room = WINDOW - len(self._tasks) if claim else 0
        if not finished and room <= 0:
            return False
        articles: dict[int, Article | None] = {}
        async with self._db.transaction() as session:
            await self._record(session, finished)
            rows = await corrections.claim_due(session, limit=room, claimer=self._claimer)
            for article_id in {row.article_id for row in rows}:
                articles[article_id] = await session.get(Article, article_id)
            polls = {
                row.correction_id: await corrections.poll_of(session, article_id=row.article_id)
                for row in rows
                if row.correction_id not in self._prepared
            }
        for correction_id, poll_id in polls.items():
            row = next(row for row in rows if row.correction_id == correction_id)
            await self._prepare(
                correction_id,
                row.article_id,
                poll_id,
                withdrawn=row.action is CorrectionAction.RETRACT,
            )
        for row in rows:
            self._in_flight[row.correction_id] = self._in_flight.get(row.correction_id, 0) + 1
            task = asyncio.create_task(self._apply(row, articles.get(row.article_id)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return bool(room) and len(rows) == room

    async def _apply(self, change: ClaimedChange, article: Article | None) -> None:
        try:
            result = await self._editor.apply(change, article)
        except Exception as error:
            log.exception("copy change %s failed unexpectedly", change.id)
            result = Refused(Failure.OTHER.value, repr(error))
        self._finished.append(_Finished(change, result))
        left = self._in_flight.get(change.correction_id, 1) - 1
        if left:
            self._in_flight[change.correction_id] = left
        else:
            self._in_flight.pop(change.correction_id, None)
        if not self.stopping:
            self.wake()

    async def _record(self, session: AsyncSession, finished: list[_Finished]) -> None:
        """Write what became of finished changes, and what they taught about their chats."""
        done: list[ChangeDone] = []
        failed: list[ChangeFailed] = []
        retries: list[ChangeRetry] = []
        now = utcnow()
        for item in finished:
            change, result = item.change, item.result
            copy = change.copy
            if isinstance(result, Changed):
                done.append(ChangeDone(change.id, result.outcome))
                if copy.poll_message_id is not None and result.shown_hash is not None:
                    await corrections.show_poll_content(
                        session, poll_message_id=copy.poll_message_id, shown_hash=result.shown_hash
                    )
            elif isinstance(result, Later):
                retries.append(
                    ChangeRetry(
                        change.id,
                        now + timedelta(seconds=result.seconds),
                        result.failure,
                        result.error,
                    )
                )
            else:
                failed.append(ChangeFailed(change.id, result.failure, result.error))
                await self._learn(session, change, result)
        self.changes_done += len(done)
        await corrections.record(session, done=done, failed=failed, retries=retries)

    @staticmethod
    async def _learn(session: AsyncSession, change: ClaimedChange, result: Refused) -> None:
        copy = change.copy
        if result.stop is not None and copy.chat_id is not None:
            log.info("chat %s unreachable (%s): pushes stop", copy.chat_id, result.error)
            await chats.mark_chat_stopped(session, chat_id=copy.chat_id, reason=result.stop)
        if result.moved_to is not None and copy.chat_id is not None:
            # Followed as deliveries follow it; this copy stays behind in the old group.
            await chats.migrate_chat(session, old_id=copy.chat_id, new_id=result.moved_to)
        if result.failure == Failure.MESSAGE_GONE.value and copy.poll_message_id is not None:
            await corrections.retire_poll_message(
                session, poll_message_id=copy.poll_message_id, reason=RetireReason.DELETED
            )
        if result.failure not in {Failure.MESSAGE_GONE.value, Failure.BLOCKED.value}:
            log.warning("copy change %s not done: %s", change.id, result.error)
