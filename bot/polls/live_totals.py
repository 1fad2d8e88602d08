"""Live totals: every message showing a poll converges to the poll's current counts.

When a poll changes (``poll_changed``), each of its live messages whose fingerprint differs from
what it shows is edited, at most once per ``interval`` seconds per message (so a burst of votes
becomes one edit per message per interval), the tapped message first. Edits that would change
nothing are never sent. "Message is not modified" counts as done, and a message that is gone
(deleted, chat blocked, bot kicked, group migrated) is retired. An edit that failed for a
passing reason (a 429, a 5xx, a timeout, an answer the client cannot read) is retried with a
growing wait, at most ``EDIT_TRIES`` times in a row and logged once; then the copy is given up
until the poll changes again (the next vote tries it afresh). What each message shows and
when it may next be edited is written back in batches, so a restart resumes pending edits: on
start every poll that may show old totals is compared again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.articles.card import PollMessageContent
from bot.articles.links import kind_by_id
from bot.polls.book import PollBook
from bot.polls.content import PollContent
from bot.runtime.background import BackgroundLoop
from bot.runtime.backoff import Backoff
from bot.telegram.errors import Failure, classify, retry_after_seconds
from storage import poll_messages
from storage.engine import Database
from storage.models import ChatKind, RetireReason
from storage.poll_messages import MessageState, ShownMessage
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_EDITS_IN_FLIGHT = 16  # more would only wait inside the send limiter, holding slots
ROUND_GAP = 0.05  # a storm of votes re-renders a poll at most this often
PERSIST_EVERY = 0.5  # seconds between batched writes of message states
RELOAD_EVERY = 1.0  # seconds before a poll's message list is read again (new copies)
EDIT_TRIES = 4  # tries in a row of one copy's edit before it is given up until the next vote
LONGEST_EDIT_WAIT = 60.0  # seconds; waits double from the edit interval up to this

_RETIRE = {
    Failure.MESSAGE_GONE: RetireReason.DELETED,
    Failure.BLOCKED: RetireReason.UNREACHABLE,
    Failure.KICKED: RetireReason.UNREACHABLE,
    Failure.CHAT_NOT_FOUND: RetireReason.UNREACHABLE,
    Failure.MIGRATED: RetireReason.CHAT_MIGRATED,
}


@dataclass(frozen=True)
class MessageRef:
    """A message a reader tapped: by chat and message id, or by inline message id."""

    chat_id: int | None = None
    message_id: int | None = None
    inline_message_id: str | None = None


@dataclass
class _Shown:
    """A live message as the editor tracks it (``due`` on the monotonic clock)."""

    row_id: int
    ref: MessageRef
    shown_hash: str | None
    due: float
    # The kind of chat the copy stands in (None: an inline copy): its card's link depends on it.
    audience: ChatKind | None = ChatKind.PRIVATE
    in_flight: bool = False
    # Failed edits in a row, and the content given up on after EDIT_TRIES of them.
    failures: int = 0
    given_up: str | None = None

    def wanted(self, fingerprint: str) -> bool:
        """Whether the message should be edited to show this content."""
        return fingerprint not in {self.shown_hash, self.given_up}


@dataclass
class _PollMessages:
    by_id: dict[int, _Shown] = field(default_factory=dict)
    loaded_at: float = -1e9


class LiveTotals(BackgroundLoop):
    """Keeps every live poll message up to date; start it at startup, stop it at shutdown."""

    name = "live-totals"

    def __init__(
        self,
        *,
        db: Database,
        bot: Bot,
        book: PollBook,
        content: PollContent,
        interval: float,
    ) -> None:
        super().__init__(idle_seconds=interval)
        self._db = db
        self._bot = bot
        self._book = book
        self._content = content
        self._interval = interval
        self._retries = Backoff(
            first=interval, longest=max(interval, LONGEST_EDIT_WAIT), tries=EDIT_TRIES
        )
        self._dirty: set[int] = set()
        self._tapped: dict[int, set[MessageRef]] = {}
        self._messages: dict[int, _PollMessages] = {}
        self._states: dict[int, MessageState] = {}
        self._retired: dict[int, RetireReason] = {}
        self._edits: set[asyncio.Task[None]] = set()
        # The poll each edit under way belongs to.
        self._edit_polls: dict[asyncio.Task[None], int] = {}
        self._persisted_at = 0.0
        self.edits_sent = 0

    # --- the interface ----------------------------------------------------------------------

    def poll_changed(self, poll_id: int, *, tapped: MessageRef | None = None) -> None:
        """The poll's counts or state changed; ``tapped`` is edited first when it may be."""
        self._dirty.add(poll_id)
        if tapped is not None:
            self._tapped.setdefault(poll_id, set()).add(tapped)
        self.wake()

    def shown_by_correction(self, poll_id: int, row_id: int, fingerprint: str) -> None:
        """A correction's edit made this copy show `fingerprint` (the corrected card with the
        current totals): a pending edit of it has nothing left to do."""
        messages = self._messages.get(poll_id)
        if messages is not None and (shown := messages.by_id.get(row_id)) is not None:
            shown.shown_hash = fingerprint
            shown.failures, shown.given_up = 0, None
        if (state := self._states.get(row_id)) is not None:
            self._states[row_id] = replace(state, shown_hash=fingerprint)

    def showing(self, poll_id: int, row_id: int) -> str | None:
        """What this copy shows as far as the editor knows (None: unknown here)."""
        messages = self._messages.get(poll_id)
        shown = messages.by_id.get(row_id) if messages is not None else None
        return shown.shown_hash if shown is not None else None

    async def withdrawn(self, poll_id: int) -> None:
        """The poll's article was retracted: none of its copies is edited from now on, not
        even by an edit waiting for its turn (it would undo the notice that replaces it)."""
        self._forget(poll_id)
        await self.drop_edits(poll_id)

    async def drop_edits(self, poll_id: int) -> None:
        """Call off the poll's edits under way (rendered before its article changed); copies
        still out of date are edited again with what they should show now."""
        tasks = [task for task, edited in self._edit_polls.items() if edited == poll_id]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _begin(self) -> float:
        """Compare every poll that may show old totals, then keep them up to date."""
        # After a stop (another process led meanwhile) what was cached may be out of date.
        self._messages.clear()
        async with self._db.transaction() as session:
            self._dirty.update(await poll_messages.polls_to_refresh(session))
        return 0.0

    async def _end(self) -> None:
        """Stop editing; what is still pending stays marked in the database for next start."""
        for task in list(self._edits):
            task.cancel()
        if self._edits:
            await asyncio.gather(*self._edits, return_exceptions=True)
        await self._persist()

    @property
    def idle(self) -> bool:
        """No poll waits for an edit and none is being sent."""
        return not self._dirty and not self._edits

    # --- the loop ---------------------------------------------------------------------------

    async def _round(self) -> float | None:
        """Edit what is due in every changed poll; the wait is until the next edit falls due,
        or the next batch of message states is written."""
        started = time.monotonic()
        next_wake: float | None = None
        for poll_id in sorted(self._dirty):
            try:
                wake = await self._refresh(poll_id)
            except Exception:
                log.exception("live totals of poll %s failed; retrying later", poll_id)
                wake = time.monotonic() + self._interval
            if wake is not None:
                next_wake = wake if next_wake is None else min(next_wake, wake)
        if time.monotonic() - self._persisted_at >= PERSIST_EVERY:
            await self._persist()
        # Votes keep waking the loop; rounds closer than ROUND_GAP would only re-render.
        await asyncio.sleep(max(0.0, started + ROUND_GAP - time.monotonic()))
        wait = None if next_wake is None else max(0.0, next_wake - time.monotonic())
        if self._states or self._retired:
            wait = min(wait if wait is not None else PERSIST_EVERY, PERSIST_EVERY)
        return wait

    async def _refresh(self, poll_id: int) -> float | None:
        """Start the edits that are due for this poll; return when to look again (None: never)."""
        live = await self._book.get(poll_id)
        if live is None:
            self._forget(poll_id)
            return None
        tapped = self._tapped.pop(poll_id, set())
        messages = await self._load(poll_id, tapped)
        now = time.monotonic()
        waiting = [shown for shown in messages.by_id.values() if not shown.in_flight]
        in_flight = len(waiting) < len(messages.by_id)
        if waiting and all(shown.due > now for shown in waiting):
            # Nothing may be edited yet: come back when the first one may.
            self._tapped.setdefault(poll_id, set()).update(tapped)
            return min(shown.due for shown in waiting)
        if not waiting:
            if not in_flight:
                self._forget(poll_id)
            # An edit in flight wakes the loop when it ends.
            return None
        version = live.version
        # An inline copy is one message: the whole card, where a chat may show its second half.
        contents = {
            audience: await self._content.content(
                live, single_message=audience is None, audience=audience
            )
            for audience in {shown.audience for shown in messages.by_id.values()}
        }

        def content_for(shown: _Shown) -> PollMessageContent:
            return contents[shown.audience]

        stale = [shown for shown in waiting if shown.wanted(content_for(shown).fingerprint)]
        if not stale and not in_flight:
            self._settle(poll_id, messages, content_for)
            return None
        due = sorted(
            (shown for shown in stale if shown.due <= now),
            key=lambda shown: (shown.ref not in tapped, shown.due),
        )
        later = [shown.due for shown in stale if shown.due > now]
        self._tapped.setdefault(poll_id, set()).update(
            shown.ref for shown in stale if shown.ref in tapped and shown.due > now
        )
        for shown in due:
            if len(self._edits) >= MAX_EDITS_IN_FLIGHT:
                later.append(now + ROUND_GAP)
                break
            content = content_for(shown)
            self._start_edit(poll_id, shown, content, content.fingerprint, version)
        return min(later) if later else None

    def _settle(
        self,
        poll_id: int,
        messages: _PollMessages,
        content_for: Callable[[_Shown], PollMessageContent],
    ) -> None:
        """Every message shows the current totals: the poll is clean until it changes again."""
        self._dirty.discard(poll_id)
        for shown in messages.by_id.values():
            self._record(shown, dirty=shown.wanted(content_for(shown).fingerprint))
        live = self._book.known(poll_id)
        if live is not None and live.closed:
            self._forget(poll_id)

    def _forget(self, poll_id: int) -> None:
        self._dirty.discard(poll_id)
        self._tapped.pop(poll_id, None)
        self._messages.pop(poll_id, None)

    async def _load(self, poll_id: int, tapped: set[MessageRef]) -> _PollMessages:
        """The poll's live messages, read again now and then to pick up new copies."""
        messages = self._messages.setdefault(poll_id, _PollMessages())
        now = time.monotonic()
        unknown_tap = any(
            ref not in {shown.ref for shown in messages.by_id.values()} for ref in tapped
        )
        if now - messages.loaded_at < RELOAD_EVERY and not (
            unknown_tap and now - messages.loaded_at > ROUND_GAP
        ):
            return messages
        async with self._db.transaction() as session:
            rows = await poll_messages.live_messages(session, poll_id=poll_id)
        messages.loaded_at = now
        fresh: dict[int, _Shown] = {}
        for row in rows:
            if row.id in self._retired:
                continue
            fresh[row.id] = messages.by_id.get(row.id) or self._shown(row, now)
        for row_id, shown in messages.by_id.items():
            # One being edited stays, even if another process retired it meanwhile.
            if shown.in_flight and row_id not in fresh:
                fresh[row_id] = shown
        messages.by_id = fresh
        return messages

    @staticmethod
    def _shown(row: ShownMessage, now: float) -> _Shown:
        due = now
        if row.next_edit_at is not None:
            due = now + max(0.0, (row.next_edit_at - utcnow()).total_seconds())
        ref = MessageRef(row.chat_id, row.message_id, row.inline_message_id)
        audience: ChatKind | None = row.chat_kind
        if audience is None:
            audience = kind_by_id(row.chat_id) if row.chat_id is not None else ChatKind.PRIVATE
        if row.inline_message_id is not None:
            ref = MessageRef(inline_message_id=row.inline_message_id)
            audience = None
        return _Shown(
            row_id=row.id, ref=ref, shown_hash=row.shown_hash, due=due, audience=audience
        )

    # --- edits ------------------------------------------------------------------------------

    def _start_edit(
        self,
        poll_id: int,
        shown: _Shown,
        content: PollMessageContent,
        fingerprint: str,
        version: int,
    ) -> None:
        shown.in_flight = True
        task = asyncio.create_task(self._edit(poll_id, shown, content, fingerprint, version))
        self._edits.add(task)
        self._edit_polls[task] = poll_id
        task.add_done_callback(self._edit_done)

    def _edit_done(self, task: asyncio.Task[None]) -> None:
        self._edits.discard(task)
        self._edit_polls.pop(task, None)

    async def _edit(
        self,
        poll_id: int,
        shown: _Shown,
        content: PollMessageContent,
        fingerprint: str,
        version: int,
    ) -> None:
        try:
            await self._send_edit(shown.ref, content)
            self.edits_sent += 1
            shown.shown_hash = fingerprint
            shown.failures, shown.given_up = 0, None
            shown.due = time.monotonic() + self._interval
        except TelegramError as error:
            self._failed(poll_id, shown, error, fingerprint)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # e.g. a result python-telegram-bot cannot read
            self._retry_later(shown, fingerprint, f"{type(error).__name__}: {error}")
        finally:
            shown.in_flight = False
            self.wake()
        live = self._book.known(poll_id)
        self._record(shown, dirty=live is None or live.version != version)

    async def _send_edit(self, ref: MessageRef, content: PollMessageContent) -> None:
        if ref.inline_message_id is not None:
            await self._bot.edit_message_text(
                content.text_html,
                inline_message_id=ref.inline_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=content.markup,
            )
        else:
            await self._bot.edit_message_text(
                content.text_html,
                chat_id=ref.chat_id,
                message_id=ref.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=content.markup,
            )

    def _failed(self, poll_id: int, shown: _Shown, error: TelegramError, fingerprint: str) -> None:
        failure = classify(error)
        now = time.monotonic()
        if failure is Failure.NOT_MODIFIED:
            shown.shown_hash = fingerprint
            shown.failures, shown.given_up = 0, None
            shown.due = now + self._interval
        elif failure in {Failure.FLOOD, Failure.TRANSIENT}:
            self._retry_later(shown, fingerprint, error.message, retry_after_seconds(error))
        elif (reason := _RETIRE.get(failure)) is not None:
            log.info("poll message %s retired: %s", shown.row_id, failure.value)
            self._retired[shown.row_id] = reason
            self._states.pop(shown.row_id, None)
            if (messages := self._messages.get(poll_id)) is not None:
                messages.by_id.pop(shown.row_id, None)
        else:
            # Telegram refuses this content for good; showing it again would fail the same way.
            log.warning("poll message %s not edited: %s", shown.row_id, error)
            shown.shown_hash = fingerprint
            shown.due = now + self._interval

    def _retry_later(
        self, shown: _Shown, fingerprint: str, reason: str, at_least: float | None = None
    ) -> None:
        """A failed edit worth trying again: later each time, and given up after EDIT_TRIES."""
        shown.failures += 1
        if shown.failures == 1:
            log.warning(
                "poll message %s not edited (%s); retrying with backoff, %d tries at most",
                shown.row_id,
                reason,
                self._retries.tries,
            )
        wait = max(self._retries.wait(shown.failures), at_least or 0.0)
        if self._retries.gives_up(shown.failures):
            log.debug("poll message %s given up until the poll changes", shown.row_id)
            shown.given_up, shown.failures = fingerprint, 0
            wait = self._interval
        shown.due = time.monotonic() + wait

    # --- persistence ------------------------------------------------------------------------

    def _record(self, shown: _Shown, *, dirty: bool) -> None:
        if shown.row_id in self._retired:
            return
        next_edit_at = utcnow() + timedelta(seconds=max(0.0, shown.due - time.monotonic()))
        self._states[shown.row_id] = MessageState(
            id=shown.row_id, shown_hash=shown.shown_hash, dirty=dirty, next_edit_at=next_edit_at
        )

    async def _persist(self) -> None:
        """Write the changed message states and retirements in one short transaction."""
        self._persisted_at = time.monotonic()
        if not self._states and not self._retired:
            return
        states, self._states = list(self._states.values()), {}
        retired = dict(self._retired)
        by_reason: dict[RetireReason, list[int]] = {}
        for row_id, reason in retired.items():
            by_reason.setdefault(reason, []).append(row_id)
        try:
            async with self._db.transaction() as session:
                await poll_messages.save_states(session, states=states)
                for reason, row_ids in by_reason.items():
                    await poll_messages.retire(session, message_ids=row_ids, reason=reason)
        except Exception:
            log.exception("poll message states not saved; retrying")
            for state in states:
                self._states.setdefault(state.id, state)
            return
        for row_id, reason in retired.items():
            # Kept until written, so a reload in between does not bring the message back.
            if self._retired.get(row_id) is reason:
                del self._retired[row_id]
