"""Readers' taps on poll buttons: vote, change, retract, and polite answers to anything else.

The tap is stored (group commit) before it is answered, so a toast never promises a vote that
is not in the database; the other copies of the poll are updated afterwards by live totals.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import TelegramError

from bot.polls.book import LivePoll
from bot.polls.live_totals import MessageRef
from bot.polls.tap_limit import SLOW_DOWN
from bot.polls.view import TOAST_MAX, toast_for_results
from bot.polls.writer import Tap, TapOutcome, TapResult, UnknownPollError
from bot.services import BotContext
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


def _tapped(query: CallbackQuery) -> MessageRef | None:
    if query.inline_message_id is not None:
        return MessageRef(inline_message_id=query.inline_message_id)
    if query.message is not None:
        return MessageRef(chat_id=query.message.chat.id, message_id=query.message.message_id)
    return None


def _refusal(value: CallbackValue | None, live: LivePoll | None) -> str | None:
    """Why the tap cannot be a vote (closed poll, forged or stale data), or None if it can."""
    if isinstance(value, ClosedPollTap):
        return POLL_CLOSED
    if not isinstance(value, VoteTap) or live is None or value.option >= len(live.record.options):
        return NOT_VALID
    return POLL_CLOSED if live.closed else None


async def vote(update: Update, context: BotContext) -> None:
    """A tap on an option button (or on a closed poll's button)."""
    if (query := update.callback_query) is None:
        return
    value = parse(query.data or "")
    services = context.services
    live = await services.polls.get(value.poll_id) if isinstance(value, VoteTap) else None
    if (refusal := _refusal(value, live)) is not None or not isinstance(value, VoteTap):
        await query.answer(refusal)
        return
    user = query.from_user
    if not services.tap_limiter.allow(user_id=user.id, poll_id=value.poll_id):
        # A script hammering the button: answered, nothing written.
        await query.answer(SLOW_DOWN)
        return
    tap = Tap(
        poll_id=value.poll_id,
        position=value.option,
        voter=Voter(
            user_id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language=user.language_code,
        ),
        chat_id=query.message.chat.id if query.message is not None else None,
    )
    try:
        result = await services.votes.submit(tap)
    except UnknownPollError:
        await query.answer(NOT_VALID)
        return
    except Exception:
        log.exception("vote of user %s in poll %s not stored", user.id, value.poll_id)
        await query.answer(NOT_SAVED)
        return
    try:
        await query.answer(toast_for(result))
    except TelegramError as error:
        # The vote is stored; a lost toast must not stop the live totals below.
        log.warning("toast for user %s in poll %s not shown: %s", user.id, value.poll_id, error)
    if result.outcome is not TapOutcome.CLOSED:
        services.live_totals.poll_changed(value.poll_id, tapped=_tapped(query))


async def unknown_button(update: Update, context: BotContext) -> None:
    """Any other callback data (forged, garbled, from an old version): a polite no."""
    del context
    if (query := update.callback_query) is None:
        return
    await query.answer(NOT_VALID)
