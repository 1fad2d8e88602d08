"""The express lane: vote taps and reaction updates handled straight from the update's JSON.

Taps and reactions come by the hundred a second. Parsed into python-telegram-bot's objects and
dispatched through its handler groups, each cost the bot's event loop more than storing it, and
a flood of reactions slowed every tap behind it. These updates skip both: the few fields their
work needs are read from the JSON, the update ledger's record goes into the same commit as the
vote or the reactions (no commit of its own to wait for), and a tap is answered right after that
commit: by a call when polling, in the reply to Telegram's request in webhook mode. An update
that does not look exactly as expected is not taken here: it goes the way of every other
update, where python-telegram-bot parses it and the handlers judge it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram._utils.types import JSONDict

from bot.polls.live_totals import MessageRef
from bot.polls.votes import (
    NOT_SAVED,
    VOTE_PATTERN,
    TapReply,
    TapRequest,
    after_answer,
    answer_tap,
    take_tap,
)
from bot.reports.reaction_writer import Outcome
from bot.reports.reactions import PAID_KEY, offer_reaction_counts, offer_user_reactions
from bot.runtime.update_ledger import digest, reaction_identity, tap_identity
from bot.services import BotApplication, BotServices
from bot.telegram.bot import NewsBot
from newsroom.engagement import ReactionCount, ReactionKind
from storage.votes import Voter

log = logging.getLogger(__name__)

_VOTE_DATA = re.compile(VOTE_PATTERN)
# What Telegram calls each kind of reaction, and the kind it is stored as.
_REACTION_KINDS = {
    "emoji": (ReactionKind.EMOJI, "emoji"),
    "custom_emoji": (ReactionKind.CUSTOM, "custom_emoji_id"),
}

Spawn = Callable[[Coroutine[Any, Any, None]], object]


@dataclass(frozen=True)
class _Tap:
    request: TapRequest


@dataclass(frozen=True)
class _Reactions:
    # Hands the update's reactions to the reaction writer (done once stored); the log line's
    # chat and user.
    offer: Callable[[], asyncio.Future[Outcome]]
    kind: str
    chat_id: int
    user_id: int | None


Express = _Tap | _Reactions


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _optional_text(payload: JSONDict, name: str) -> tuple[bool, str | None]:
    """(well formed, value) of an optional string field."""
    value = payload.get(name)
    return value is None or isinstance(value, str), value if isinstance(value, str) else None


def _object(value: object) -> JSONDict | None:
    return value if isinstance(value, dict) else None


def read_tap(update: JSONDict) -> TapRequest | None:
    """The vote tap this update carries, or None if it carries none or is not well formed."""
    query = _object(update.get("callback_query"))
    update_id = _integer(update.get("update_id"))
    if query is None or update_id is None:
        return None
    data = _text(query.get("data"))
    query_id = _text(query.get("id"))
    user = _object(query.get("from"))
    if data is None or query_id is None or user is None or not _VOTE_DATA.match(data):
        return None
    user_id = _integer(user.get("id"))
    first_name = _text(user.get("first_name"))
    optional = [_optional_text(user, name) for name in ("last_name", "username", "language_code")]
    if user_id is None or first_name is None or not all(ok for ok, _ in optional):
        return None
    (_, last_name), (_, username), (_, language) = optional
    chat_id: int | None = None
    tapped: MessageRef | None = None
    if (inline := query.get("inline_message_id")) is not None:
        if not isinstance(inline, str):
            return None
        tapped = MessageRef(inline_message_id=inline)
    elif (message := query.get("message")) is not None:
        message = _object(message)
        chat = _object(message.get("chat")) if message is not None else None
        chat_id = _integer(chat.get("id")) if chat is not None else None
        message_id = _integer(message.get("message_id")) if message is not None else None
        if chat_id is None or message_id is None:
            return None
        tapped = MessageRef(chat_id=chat_id, message_id=message_id)
    return TapRequest(
        query_id=query_id,
        data=data,
        voter=Voter(
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language=language,
        ),
        chat_id=chat_id,
        tapped=tapped,
        update=(update_id, digest(tap_identity(query_id))),
    )


def _reaction_key(reaction: object) -> tuple[ReactionKind, str] | None:
    """A reaction type's kind and key, as bot/reports/reactions.py's `reaction_key` makes it."""
    reaction = _object(reaction)
    kind = _text(reaction.get("type")) if reaction is not None else None
    if reaction is None or kind is None:
        return None
    if kind == "paid":
        return ReactionKind.PAID, PAID_KEY
    if kind not in _REACTION_KINDS:
        return None
    stored_as, field = _REACTION_KINDS[kind]
    key = _text(reaction.get(field))
    return (stored_as, key) if key is not None else None


def _reacted_message(changed: JSONDict) -> tuple[int, int, int] | None:
    """(chat id, message id, date) of a reaction update's message."""
    chat = _object(changed.get("chat"))
    chat_id = _integer(chat.get("id")) if chat is not None else None
    message_id = _integer(changed.get("message_id"))
    date = _integer(changed.get("date"))
    if chat_id is None or message_id is None or date is None:
        return None
    return chat_id, message_id, date


def _counts(reactions: object) -> list[ReactionCount] | None:
    """A message_reaction_count's `reactions` as counts, or None if one is not well formed."""
    if not isinstance(reactions, list):
        return None
    totals: list[ReactionCount] = []
    for item in reactions:
        counted = _object(item)
        key = _reaction_key(counted.get("type")) if counted is not None else None
        count = _integer(counted.get("total_count")) if counted is not None else None
        if key is None or count is None:
            return None
        totals.append(ReactionCount(*key, count=count))
    return totals


def read_reaction_counts(update: JSONDict, services: BotServices) -> _Reactions | None:
    """The anonymous reaction counts this update carries, ready to store; None if it carries
    none or is not well formed."""
    update_id = _integer(update.get("update_id"))
    counted = _object(update.get("message_reaction_count"))
    where = _reacted_message(counted) if counted is not None else None
    totals = _counts(counted.get("reactions")) if counted is not None else None
    if update_id is None or where is None or totals is None:
        return None
    chat_id, message_id, date = where
    update_key = (update_id, digest(reaction_identity(chat_id, message_id, date, None)))

    def offer() -> asyncio.Future[Outcome]:
        return offer_reaction_counts(
            services.reactions,
            chat_id=chat_id,
            message_id=message_id,
            version=(date, update_id),
            totals=totals,
            update=update_key,
        )

    return _Reactions(offer, "message_reaction_count", chat_id, None)


def read_reader_reactions(update: JSONDict, services: BotServices) -> _Reactions | None:
    """A reader's reactions now, from this update, ready to store; None if it carries none, is
    made on behalf of a chat (the handlers judge those) or is not well formed."""
    update_id = _integer(update.get("update_id"))
    changed = _object(update.get("message_reaction"))
    if update_id is None or changed is None:
        return None
    where = _reacted_message(changed)
    user = _object(changed.get("user"))
    user_id = _integer(user.get("id")) if user is not None else None
    new = changed.get("new_reaction")
    keys = [_reaction_key(reaction) for reaction in new] if isinstance(new, list) else [None]
    reactions = [key for key in keys if key is not None]
    if where is None or user_id is None or len(reactions) != len(keys):
        return None
    chat_id, message_id, date = where
    update_key = (update_id, digest(reaction_identity(chat_id, message_id, date, user_id)))
    reader = user_id

    def offer() -> asyncio.Future[Outcome]:
        return offer_user_reactions(
            services.reactions,
            chat_id=chat_id,
            message_id=message_id,
            actor=reader,
            version=(date, update_id),
            reactions=reactions,
            update=update_key,
        )

    return _Reactions(offer, "message_reaction", chat_id, user_id)


class ExpressLane:
    """Takes vote taps and reaction updates from polling (`take`) and from the webhook
    (`read` then `reply`); at most `concurrency` of them are worked on at once."""

    def __init__(
        self, services: BotServices, bot: NewsBot, *, spawn: Spawn, concurrency: int
    ) -> None:
        self._services = services
        self._bot = bot
        # python-telegram-bot's Application.create_task: its stop() waits for these tasks.
        self._spawn = spawn
        self._slots = asyncio.Semaphore(concurrency)

    @classmethod
    def for_application(cls, application: BotApplication, *, concurrency: int) -> ExpressLane:
        return cls(
            application.bot_data,
            application.bot,
            spawn=application.create_task,
            concurrency=concurrency,
        )

    def read(self, update: JSONDict) -> Express | None:
        """The lane's work for this update, or None if it is not the lane's."""
        if "callback_query" in update:
            request = read_tap(update)
            return _Tap(request) if request is not None else None
        if "message_reaction_count" in update:
            return read_reaction_counts(update, self._services)
        if "message_reaction" in update:
            return read_reader_reactions(update, self._services)
        return None

    def take(self, update: JSONDict) -> bool:
        """Polling: True when the update is the lane's, its work then under way in a task."""
        work = self.read(update)
        if work is None:
            return False
        if isinstance(work, _Reactions):
            # Nobody waits on a reaction: handed to its writer, with no task or slot held.
            self._log(update, work)
            work.offer()
        else:
            self._spawn(self._tap(update, work))
        return True

    async def reply(self, update: JSONDict, work: Express) -> JSONDict | None:
        """Webhook: does the work and returns the method to answer Telegram's request with
        (a tap's answerCallbackQuery), or None. A tap that fails raises: the request is
        answered 500 and Telegram pushes the update again."""
        self._log(update, work)
        if isinstance(work, _Reactions):
            # Answered at once: a push held for the reaction batch would hold up the taps.
            work.offer()
            return None
        async with self._slots:
            reply = await take_tap(self._services, work.request)
            # The answer goes out with the response; the copies are refreshed after it.
            after_answer(self._services, work.request, reply)
            return _answer_method(work.request, reply)

    async def _tap(self, update: JSONDict, work: _Tap) -> None:
        self._log(update, work)
        async with self._slots:
            try:
                reply = await take_tap(self._services, work.request)
            except Exception:
                # Not stored, and not recorded either: a delivery again would be taken on.
                log.exception("update %s not handled", update.get("update_id"))
                reply = TapReply(NOT_SAVED)
            await answer_tap(self._bot, self._services, work.request, reply)

    def _log(self, update: JSONDict, work: Express) -> None:
        """The line every update gets (bot/runtime/middleware.py writes it for the others)."""
        kind, chat_id, user_id = (
            ("callback_query", work.request.chat_id, work.request.voter.user_id)
            if isinstance(work, _Tap)
            else (work.kind, work.chat_id, work.user_id)
        )
        log.info(
            "update %s: %s in chat %s from user %s",
            update.get("update_id"),
            kind,
            chat_id if chat_id is not None else "-",
            user_id if user_id is not None else "-",
        )


def _answer_method(request: TapRequest, reply: TapReply) -> JSONDict | None:
    if reply.toast is None:
        return None
    return {
        "method": "answerCallbackQuery",
        "callback_query_id": request.query_id,
        "text": reply.toast,
    }
