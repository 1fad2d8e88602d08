"""Readers' taps on poll buttons: vote, change, retract, and polite answers to anything else.

The tap is stored (group commit) before it is answered, so a toast never promises a vote that
is not in the database; the other copies of the poll are updated afterwards by live totals.
`take_tap` decides a tap and says what to answer; polling answers with a call, a webhook in
its reply (bot/runtime/express.py), and python-telegram-bot's handler with a call too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import CallbackQuery, Update
from telegram.error import TelegramError

from bot.polls.book import LivePoll
from bot.polls.live_totals import MessageRef
from bot.polls.tap_limit import SLOW_DOWN
from bot.polls.view import TOAST_MAX, toast_for_results
from bot.polls.writer import Tap, TapOutcome, TapResult, UnknownPollError
from bot.runtime.update_ledger import UpdateKey
from bot.services import BotContext, BotServices
from bot.telegram import lean_send
from bot.telegram.bot import NewsBot
from bot.telegram.callback_data import CallbackValue, ClosedPollTap, VoteTap, parse
from newsroom.plaintext import shorten, tidy
from newsroom.poll import PollView
from storage.votes import Voter

log = logging.getLogger(__name__)

# Callback data this module answers: version 1 votes and "Poll closed" buttons.
VOTE_PATTERN = r"^1:[vc]:"
NOT_VALID = "This button is no longer valid."
POLL_CLOSED = "This poll is closed."
NOT_SAVED = "Sorry, your vote was not saved. Please try again."
VOTE_REMOVED = "Vote removed"


def _option_name(view: PollView, position: int) -> str:
    return tidy(view.options[position]) or f"Option {position + 1}"


def toast_for(result: TapResult) -> str:
    """The toast for a stored tap; with hidden results, a voter also sees the totals."""
    view = result.view
    if result.outcome is TapOutcome.CLOSED:
        return POLL_CLOSED
    if result.outcome is TapOutcome.REMOVED:
        return VOTE_REMOVED
    prefix = "You voted: " if result.outcome is TapOutcome.VOTED else "Vote changed to "
    head = prefix + shorten(_option_name(view, result.position), 60)
    if view.shows_results:
        return head
    # Counts stay out of the message for this poll: the voter sees them here instead.
    lines = toast_for_results(view).split("\n")
    while lines and len(head) + 1 + len("\n".join(lines)) > TOAST_MAX:
        lines.pop()
    return "\n".join([head, *lines])


@dataclass(frozen=True)
class TapRequest:
    """A tap on a poll button, as much of it as the bot needs: read from python-telegram-bot's
    callback query (`from_query`) or straight from the update's JSON (bot/runtime/express.py)."""

    query_id: str
    data: str
    voter: Voter
    # The chat of the tapped copy (None: an inline copy), and the copy itself.
    chat_id: int | None
    tapped: MessageRef | None
    # The update the tap came in, recorded with the vote (None: recorded before, by the ledger).
    update: UpdateKey | None = None

    @classmethod
    def from_query(cls, query: CallbackQuery) -> TapRequest:
        user = query.from_user
        tapped: MessageRef | None = None
        if query.inline_message_id is not None:
            tapped = MessageRef(inline_message_id=query.inline_message_id)
        elif query.message is not None:
            tapped = MessageRef(chat_id=query.message.chat.id, message_id=query.message.message_id)
        return cls(
            query_id=query.id,
            data=query.data or "",
            voter=Voter(
                user_id=user.id,
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
                language=user.language_code,
            ),
            chat_id=query.message.chat.id if query.message is not None else None,
            tapped=tapped,
        )


@dataclass(frozen=True)
class TapReply:
    """What a tap is answered: `toast` (None: a repeat of an update taken on before, answered
    then), and the poll whose copies now show old totals, if any."""

    toast: str | None
    changed_poll: int | None = None


def _refusal(value: CallbackValue | None, live: LivePoll | None) -> str | None:
    """Why the tap cannot be a vote (closed poll, forged or stale data), or None if it can."""
    if isinstance(value, ClosedPollTap):
        return POLL_CLOSED
    if not isinstance(value, VoteTap) or live is None or value.option >= len(live.record.options):
        return NOT_VALID
    return POLL_CLOSED if live.closed else None


async def take_tap(services: BotServices, request: TapRequest) -> TapReply:
    """Decide and store a tap on an option button (or on a closed poll's button); returns
    after the commit, with what to answer."""
    value = parse(request.data)
    live = await services.polls.get(value.poll_id) if isinstance(value, VoteTap) else None
    if (refusal := _refusal(value, live)) is not None or not isinstance(value, VoteTap):
        return TapReply(refusal)
    user_id = request.voter.user_id
    if not services.tap_limiter.allow(user_id=user_id, poll_id=value.poll_id):
        # A script hammering the button: answered, nothing written.
        return TapReply(SLOW_DOWN)
    tap = Tap(
        poll_id=value.poll_id,
        position=value.option,
        voter=request.voter,
        chat_id=request.chat_id,
        update=request.update,
    )
    try:
        result = await services.votes.submit(tap)
    except UnknownPollError:
        return TapReply(NOT_VALID)
    except Exception:
        log.exception("vote of user %s in poll %s not stored", user_id, value.poll_id)
        return TapReply(NOT_SAVED)
    if result.outcome is TapOutcome.REPEATED:
        log.info("tap %s was delivered again; skipped", request.query_id)
        return TapReply(None)
    changed = value.poll_id if result.outcome is not TapOutcome.CLOSED else None
    return TapReply(toast_for(result), changed)


def after_answer(services: BotServices, request: TapRequest, reply: TapReply) -> None:
    """Once the tap is answered: the poll's copies are brought to the new totals, the tapped
    copy first."""
    if reply.changed_poll is not None:
        services.live_totals.poll_changed(reply.changed_poll, tapped=request.tapped)


async def answer_tap(
    bot: NewsBot, services: BotServices, request: TapRequest, reply: TapReply
) -> None:
    """Answer the tap with its toast (a lean call: the answer is all Telegram sends back),
    then refresh the poll's copies."""
    if reply.toast is not None:
        parameters = {"callback_query_id": request.query_id, "text": reply.toast}
        try:
            await lean_send.call(bot, "answerCallbackQuery", parameters)
            bot.note_answered(request.query_id)
        except TelegramError as error:
            # The vote is stored; a lost toast must not stop the live totals below.
            log.warning("toast for user %s not shown: %s", request.voter.user_id, error)
    after_answer(services, request, reply)


async def vote(update: Update, context: BotContext) -> None:
    """A tap on an option button that came the way of every update (the express lane takes
    most of them: bot/runtime/express.py)."""
    if (query := update.callback_query) is None:
        return
    request = TapRequest.from_query(query)
    await answer_tap(
        context.bot, context.services, request, await take_tap(context.services, request)
    )


async def unknown_button(update: Update, context: BotContext) -> None:
    """Any other callback data (forged, garbled, from an old version): a polite no."""
    del context
    if (query := update.callback_query) is None:
        return
    await query.answer(NOT_VALID)
