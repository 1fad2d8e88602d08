"""Readers' reactions on the copies the bot delivered: each update stored as the copy's counts.

``message_reaction_count`` (channels, anonymous) carries a copy's full counts; ``message_reaction``
(private chats and groups) one user's reactions now. Either replaces what was stored for the copy
(storage/engagement.py says how); a reaction on a message that is no copy of an article is ignored.
The reaction writer stores them in batches, in Telegram's order per copy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from telegram import ReactionType, ReactionTypeCustomEmoji, ReactionTypeEmoji, Update

from bot.reports.reaction_writer import Outcome, Version
from bot.services import BotContext
from newsroom.engagement import ReactionCount, ReactionKind
from storage import engagement

log = logging.getLogger(__name__)

# The key a paid (star) reaction is stored under: it has no emoji or id of its own.
PAID_KEY = "paid"


def reaction_key(reaction: ReactionType) -> tuple[ReactionKind, str]:
    """A Telegram reaction as a kind and key: the emoji, the custom emoji's id, or "paid"."""
    if isinstance(reaction, ReactionTypeEmoji):
        return ReactionKind.EMOJI, reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return ReactionKind.CUSTOM, reaction.custom_emoji_id
    return ReactionKind.PAID, PAID_KEY


def _version(update: Update) -> Version:
    """When Telegram sent the reaction update: its date, then its id within one second."""
    changed = update.message_reaction or update.message_reaction_count
    sent = int(changed.date.timestamp()) if changed is not None else 0
    return sent, update.update_id


def _keys(reactions: Sequence[ReactionType]) -> list[tuple[ReactionKind, str]]:
    return [reaction_key(reaction) for reaction in reactions]


async def reaction_changed(update: Update, context: BotContext) -> None:
    """A user changed their reactions on a message: their reactions there now replace theirs."""
    if (changed := update.message_reaction) is None:
        return
    # A reaction made on behalf of a chat (an anonymous admin, a channel) is the chat's.
    actor = changed.user.id if changed.user is not None else None
    if actor is None and changed.actor_chat is not None:
        actor = changed.actor_chat.id
    if actor is None:
        log.info("reaction in chat %s without a user or chat: ignored", changed.chat.id)
        return
    outcome = await context.services.reactions.submit(
        (changed.chat.id, changed.message_id, actor),
        _version(update),
        partial(
            engagement.record_user_reaction,
            chat_id=changed.chat.id,
            message_id=changed.message_id,
            user_id=actor,
            reactions=_keys(changed.new_reaction),
        ),
    )
    _log_unstored(outcome, update, changed.chat.id, changed.message_id)


async def reactions_counted(update: Update, context: BotContext) -> None:
    """Anonymous reactions on a message changed: its counts become the update's."""
    if (counted := update.message_reaction_count) is None:
        return
    totals = [
        ReactionCount(*reaction_key(reaction.type), count=reaction.total_count)
        for reaction in counted.reactions
    ]
    outcome = await context.services.reactions.submit(
        (counted.chat.id, counted.message_id),
        _version(update),
        partial(
            engagement.record_reaction_count,
            chat_id=counted.chat.id,
            message_id=counted.message_id,
            reactions=totals,
        ),
    )
    _log_unstored(outcome, update, counted.chat.id, counted.message_id)


def _log_unstored(outcome: Outcome, update: Update, chat_id: int, message_id: int) -> None:
    if outcome is Outcome.PASSED_OVER:
        log.debug("an older reaction update %s arrived late: passed over", update.update_id)
    elif outcome is Outcome.NOT_A_COPY:
        log.debug("reaction on message %s/%s: not one of our copies", chat_id, message_id)
