"""Readers' reactions on the copies the bot delivered: each update stored as the copy's counts.

``message_reaction_count`` (channels, anonymous) carries a copy's full counts; ``message_reaction``
(private chats and groups) one user's reactions now. Either replaces what was stored for the copy
(storage/engagement.py says how); a reaction on a message that is no copy of an article is ignored.
The reaction writer stores them in batches, in Telegram's order per copy. Most reaction updates
come by the express lane (bot/runtime/express.py), which calls `offer_*` here with the values
read from the update's JSON; the handlers below take the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial

from telegram import (
    MessageReactionUpdated,
    ReactionType,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    Update,
)

from bot.reports.reaction_writer import Batched, Outcome, ReactionWriter, Version
from bot.runtime.update_ledger import UpdateKey
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


def reactor(changed: MessageReactionUpdated) -> int | None:
    """Whose reactions these are: the user's, or the chat's when made on its behalf (an
    anonymous admin, a channel)."""
    if changed.user is not None:
        return changed.user.id
    return changed.actor_chat.id if changed.actor_chat is not None else None


def offer_user_reactions(
    writer: ReactionWriter,
    *,
    chat_id: int,
    message_id: int,
    actor: int,
    version: Version,
    reactions: list[tuple[ReactionKind, str]],
    update: UpdateKey | None = None,
) -> asyncio.Future[Outcome]:
    """One reader's (or chat's) reactions on a message now replace theirs there; the future is
    done once they are stored."""
    future = writer.offer(
        (chat_id, message_id, actor),
        version,
        partial(
            engagement.record_user_reaction,
            chat_id=chat_id,
            message_id=message_id,
            user_id=actor,
            reactions=reactions,
        ),
        update=update,
    )
    future.add_done_callback(partial(_log_unstored, version[1], chat_id, message_id))
    return future


def offer_reaction_counts(
    writer: ReactionWriter,
    *,
    chat_id: int,
    message_id: int,
    version: Version,
    totals: list[ReactionCount],
    update: UpdateKey | None = None,
) -> asyncio.Future[Outcome]:
    """A message's anonymous reaction counts become `totals`; the future is done once they
    are stored."""
    future = writer.offer(
        (chat_id, message_id),
        version,
        Batched(
            engagement.record_reaction_counts,
            engagement.CopyCounts(chat_id, message_id, totals),
        ),
        update=update,
    )
    future.add_done_callback(partial(_log_unstored, version[1], chat_id, message_id))
    return future


async def reaction_changed(update: Update, context: BotContext) -> None:
    """A user changed their reactions on a message: their reactions there now replace theirs."""
    if (changed := update.message_reaction) is None:
        return
    if (actor := reactor(changed)) is None:
        log.info("reaction in chat %s without a user or chat: ignored", changed.chat.id)
        return
    await offer_user_reactions(
        context.services.reactions,
        chat_id=changed.chat.id,
        message_id=changed.message_id,
        actor=actor,
        version=_version(update),
        reactions=_keys(changed.new_reaction),
    )


async def reactions_counted(update: Update, context: BotContext) -> None:
    """Anonymous reactions on a message changed: its counts become the update's."""
    if (counted := update.message_reaction_count) is None:
        return
    await offer_reaction_counts(
        context.services.reactions,
        chat_id=counted.chat.id,
        message_id=counted.message_id,
        version=_version(update),
        totals=[
            ReactionCount(*reaction_key(reaction.type), count=reaction.total_count)
            for reaction in counted.reactions
        ],
    )


def _log_unstored(
    update_id: int, chat_id: int, message_id: int, stored: asyncio.Future[Outcome]
) -> None:
    """One line for an update that was not stored, once its batch is done."""
    if stored.cancelled():
        return
    if (error := stored.exception()) is not None:
        log.error("reaction update %s not stored: %s", update_id, error)
        return
    outcome = stored.result()
    if outcome is Outcome.PASSED_OVER:
        log.debug("an older reaction update %s arrived late: passed over", update_id)
    elif outcome is Outcome.NOT_A_COPY:
        log.debug("reaction on message %s/%s: not one of our copies", chat_id, message_id)
    elif outcome is Outcome.REPEATED:
        log.info("reaction update %s was delivered again; skipped", update_id)
