"""What one copy change does on Telegram: a copy edited to the corrected card, or deleted, or
(where Telegram will not delete it) edited to the withdrawal notice; and what became of it.

The corrected card is rendered from the stored article as it is now, so a change done twice
(after a restart) sends the same edit, which Telegram answers "message is not modified": done.
A copy that shows a poll is rendered by the live-totals content with the current totals, and
the live-totals editor learns what it shows, so a pending totals edit and the correction are
one edit. Errors mean what they mean for deliveries (bot/telegram/errors.py): a chat that
blocked or removed the bot stops, a group that moved is followed, passing trouble is retried.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from html import escape

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.articles.links import ArticleLinks, Audience, kind_by_id
from bot.articles.loader import ArticleCard, card_for
from bot.corrections.texts import withdrawal_notice
from bot.delivery.engine import MAX_ATTEMPTS, STOP_REASONS, backoff_seconds
from bot.polls.book import PollBook
from bot.polls.content import PollContent
from bot.polls.live_totals import LiveTotals
from bot.sharing.inline_search import inline_card
from bot.telegram.errors import Failure, classify, migrated_to, retry_after_seconds
from bot.telegram.limiter import SendLimiter
from storage.corrections import ClaimedChange, Copy
from storage.engine import Database
from storage.models import (
    Article,
    ArticleStatus,
    ChatKind,
    CopyOutcome,
    CorrectionAction,
    StopReason,
)


@dataclass(frozen=True)
class Changed:
    """The copy shows what the correction asked; ``shown_hash`` for a poll copy's content."""

    outcome: CopyOutcome
    shown_hash: str | None = None


@dataclass(frozen=True)
class Refused:
    """Telegram refused the copy for good (or the bot may no longer reach its chat)."""

    failure: str
    error: str
    stop: StopReason | None = None
    moved_to: int | None = None


@dataclass(frozen=True)
class Later:
    """Worth another try after ``seconds``."""

    seconds: float
    failure: str
    error: str


Result = Changed | Refused | Later


@dataclass(frozen=True)
class _Content:
    """What a copy should show: its message's text and keyboard, and the photo's caption."""

    text_html: str
    markup: InlineKeyboardMarkup | None
    caption_html: str | None = None
    fingerprint: str | None = None


class CopyEditor:
    """Applies one claimed copy change; renders cards once per article revision and audience."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        book: PollBook,
        content: PollContent,
        live_totals: LiveTotals,
        limiter: SendLimiter,
        links: ArticleLinks,
    ) -> None:
        self._db = db
        self._bot = bot
        self._book = book
        self._content = content
        self._live_totals = live_totals
        self._limiter = limiter
        self._links = links
        self._cards: dict[tuple[int, int, Audience], ArticleCard] = {}

    async def apply(self, change: ClaimedChange, article: Article | None) -> Result:
        """Make the copy show what its correction asks; what became of it."""
        try:
            if change.action is CorrectionAction.RETRACT:
                return await self._withdraw(change)
            if article is None or article.status is ArticleStatus.WITHDRAWN:
                # Retracted after this correction: the retraction's own row takes the copy.
                return Changed(CopyOutcome.SUPERSEDED)
            return await self._correct(change, article)
        except TelegramError as error:
            return _result_of(error, change.attempts)

    # --- corrections ----------------------------------------------------------------------

    async def _correct(self, change: ClaimedChange, article: Article) -> Result:
        copy = change.copy
        audience = self._audience(copy)
        card = await self._card(article, audience)
        content = await self._corrected(copy, card, audience)
        poll_id = card.poll.poll_id if card.poll is not None else None
        poll_copy = copy.poll_message_id
        shown = (
            self._live_totals.showing(poll_id, poll_copy)
            if poll_id is not None and poll_copy is not None
            else None
        )
        if content.fingerprint is not None and shown == content.fingerprint:
            # The live-totals editor already sent this very content (the merge, its way round).
            return Changed(CopyOutcome.EDITED, content.fingerprint)
        if copy.photo_message_id is not None and content.caption_html is not None:
            await self._unless_unchanged(
                self._bot.edit_message_caption(
                    chat_id=copy.chat_id,
                    message_id=copy.photo_message_id,
                    caption=content.caption_html,
                    parse_mode=ParseMode.HTML,
                ),
                photo=True,
            )
        await self._unless_unchanged(self._edit_text(copy, content.text_html, content.markup))
        if poll_id is not None and poll_copy is not None and content.fingerprint is not None:
            self._live_totals.shown_by_correction(poll_id, poll_copy, content.fingerprint)
        return Changed(CopyOutcome.EDITED, content.fingerprint)

    async def _corrected(self, copy: Copy, card: ArticleCard, audience: Audience) -> _Content:
        inline = copy.inline_message_id is not None
        rendered = card.render()
        if card.poll is not None and copy.poll_message_id is not None:
            live = await self._book.get(card.poll.poll_id)
            if live is not None:
                shown = await self._content.content(live, single_message=inline, audience=audience)
                return _Content(
                    shown.text_html,
                    shown.markup,
                    None if inline else rendered.caption_html,
                    shown.fingerprint,
                )
        if inline:
            # An inline copy is one message: the whole card, headline and all.
            single = inline_card(card)
            return _Content(single.text_html, single.markup)
        return _Content(rendered.text_html, rendered.markup, rendered.caption_html)

    def _audience(self, copy: Copy) -> Audience:
        if copy.inline_message_id is not None:
            return None
        if not self._links.per_audience:
            return ChatKind.PRIVATE  # every kind of chat got the same card
        if copy.chat_kind is not None:
            return copy.chat_kind
        return kind_by_id(copy.chat_id or 0)

    async def _card(self, article: Article, audience: Audience) -> ArticleCard:
        key = (article.id or 0, article.revision, audience)
        if (card := self._cards.get(key)) is None:
            async with self._db.transaction() as session:
                card = await card_for(session, article, links=self._links, audience=audience)
            # Only the newest revision of each article is kept.
            self._cards = {
                held: value
                for held, value in self._cards.items()
                if held[0] != key[0] or held[1] == key[1]
            }
            self._cards[key] = card
        return card

    # --- retractions ----------------------------------------------------------------------

    async def _withdraw(self, change: ClaimedChange) -> Result:
        copy = change.copy
        notice = escape(withdrawal_notice(change.note), quote=False)
        if copy.inline_message_id is not None:
            # Telegram never deletes an inline message: it can only say so.
            await self._unless_unchanged(self._edit_text(copy, notice, None))
            return Changed(CopyOutcome.NOTICE)
        ids = [copy.message_id or 0]
        if copy.photo_message_id is not None:
            ids.insert(0, copy.photo_message_id)
        try:
            # Deletes are not rate limited like sends; they still keep the bot-wide pace.
            await self._limiter.wait_turn(None)
            if len(ids) == 1:
                await self._bot.delete_message(copy.chat_id or 0, ids[0])
            else:
                await self._bot.delete_messages(copy.chat_id or 0, ids)
        except TelegramError as error:
            failure = classify(error)
            if failure is Failure.MESSAGE_GONE:
                return Changed(CopyOutcome.DELETED)  # someone (or our last try) deleted it
            if failure is not Failure.CANNOT_DELETE:
                raise
        else:
            return Changed(CopyOutcome.DELETED)
        if copy.photo_message_id is not None:
            await self._unless_unchanged(
                self._bot.edit_message_caption(
                    chat_id=copy.chat_id,
                    message_id=copy.photo_message_id,
                    caption=notice,
                    parse_mode=ParseMode.HTML,
                ),
                photo=True,
            )
        await self._unless_unchanged(self._edit_text(copy, notice, None))
        return Changed(CopyOutcome.NOTICE)

    # --- calls ----------------------------------------------------------------------------

    async def _edit_text(
        self, copy: Copy, text_html: str, markup: InlineKeyboardMarkup | None
    ) -> object:
        if copy.inline_message_id is not None:
            return await self._bot.edit_message_text(
                text_html,
                inline_message_id=copy.inline_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        return await self._bot.edit_message_text(
            text_html,
            chat_id=copy.chat_id,
            message_id=copy.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )

    @staticmethod
    async def _unless_unchanged(call: Awaitable[object], *, photo: bool = False) -> None:
        """Await the edit; "not modified" means it shows this already (a repeat after a
        restart). A photo that is gone does not keep its message from being edited."""
        try:
            await call
        except TelegramError as error:
            failure = classify(error)
            if failure is Failure.NOT_MODIFIED or (photo and failure is Failure.MESSAGE_GONE):
                return
            raise


def _result_of(error: TelegramError, attempts: int) -> Result:
    """What a Telegram error means for the copy, as for a delivery."""
    failure = classify(error)
    text = error.message
    if failure is Failure.FLOOD:
        return Later(retry_after_seconds(error) or 1.0, failure.value, text)
    if failure is Failure.TRANSIENT and attempts < MAX_ATTEMPTS:
        return Later(backoff_seconds(attempts), failure.value, text)
    if failure is Failure.MIGRATED and (new_id := migrated_to(error)) is not None:
        # The copy stays in the old group, which the bot no longer reaches.
        return Refused(failure.value, text, moved_to=new_id)
    return Refused(failure.value, text, stop=STOP_REASONS.get(failure))
