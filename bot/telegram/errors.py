"""What a Telegram error means for the bot: one classifier, by type first, by text where needed.

python-telegram-bot maps most refusals to a type (RetryAfter, ChatMigrated, Forbidden,
BadRequest, TimedOut, NetworkError); some situations differ only in Telegram's text ("message
is not modified", "chat not found", "can't parse entities"). `classify` turns any error into one
`Failure`, so callers decide by value and never match texts themselves. Texts are compared
case-insensitively: python-telegram-bot strips "Bad Request: " and capitalizes the rest.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)


class Failure(StrEnum):
    """Why a call to Telegram failed, in the terms the bot acts on."""

    NOT_MODIFIED = "not_modified"  # an edit that would change nothing
    MESSAGE_GONE = "message_gone"  # the message to edit or delete no longer exists
    CANNOT_DELETE = "cannot_delete"  # too old to delete (48 hours), or not the bot's to delete
    BLOCKED = "blocked"  # a user blocked the bot (or never started it, or is deactivated)
    KICKED = "kicked"  # the bot was removed from a group or channel, or may not post there
    CHAT_NOT_FOUND = "chat_not_found"  # the chat does not exist for the bot
    MIGRATED = "migrated"  # the group became a supergroup with a new id
    TOPIC_CLOSED = "topic_closed"  # the forum topic sent to is closed
    TOPIC_DELETED = "topic_deleted"  # the forum topic sent to was deleted (or never was)
    FLOOD = "flood"  # 429: wait retry_after, then try again
    BAD_MARKUP = "bad_markup"  # the HTML or Markdown did not parse
    TRANSIENT = "transient"  # timeouts and network trouble: worth retrying later
    OTHER = "other"  # anything else: retrying will not help


# Failures after which the chat cannot receive anything until someone acts.
UNREACHABLE = frozenset({Failure.BLOCKED, Failure.KICKED, Failure.CHAT_NOT_FOUND})

_NOT_MODIFIED = ("message is not modified",)
_CANNOT_DELETE = ("message can't be deleted",)
_MESSAGE_GONE = (
    "message to edit not found",
    "message to delete not found",
    "message can't be edited",
    "message_id_invalid",
)
_CHAT_NOT_FOUND = ("chat not found", "user not found", "peer_id_invalid")
_BAD_MARKUP = ("can't parse entities", "can't find end of the entity", "unsupported start tag")
_MIGRATED = ("group chat was upgraded to a supergroup chat",)
_TOPIC_CLOSED = ("topic_closed",)
_TOPIC_DELETED = ("message thread not found", "topic_deleted", "topic_id_invalid")
# A bad request saying the bot may not post here is, for delivery, the same as being removed.
_NO_RIGHTS = (
    "need administrator rights",
    "not enough rights",
    "have no rights to send",
    "chat_write_forbidden",
)
_KICKED = ("kicked", "not a member", "channel")


def _has(text: str, fragments: tuple[str, ...]) -> bool:
    return any(fragment in text for fragment in fragments)


def classify(error: TelegramError) -> Failure:
    """The one `Failure` that `error` stands for."""
    text = error.message.lower()
    # Order matters: RetryAfter and ChatMigrated carry parameters, and BadRequest and
    # Forbidden are subclasses of NetworkError in python-telegram-bot.
    if isinstance(error, RetryAfter):
        return Failure.FLOOD
    if isinstance(error, ChatMigrated):
        return Failure.MIGRATED
    if isinstance(error, Forbidden):
        return Failure.KICKED if _has(text, _KICKED) else Failure.BLOCKED
    if isinstance(error, BadRequest):
        return _classify_bad_request(text)
    if isinstance(error, NetworkError):
        return Failure.TRANSIENT
    return Failure.OTHER


def _classify_bad_request(text: str) -> Failure:
    for fragments, failure in (
        # First: the topic's own failures end only that topic, never the whole chat.
        (_TOPIC_CLOSED, Failure.TOPIC_CLOSED),
        (_TOPIC_DELETED, Failure.TOPIC_DELETED),
        (_NOT_MODIFIED, Failure.NOT_MODIFIED),
        (_CANNOT_DELETE, Failure.CANNOT_DELETE),
        (_MESSAGE_GONE, Failure.MESSAGE_GONE),
        (_CHAT_NOT_FOUND, Failure.CHAT_NOT_FOUND),
        (_BAD_MARKUP, Failure.BAD_MARKUP),
        (_MIGRATED, Failure.MIGRATED),
        (_NO_RIGHTS, Failure.KICKED),
    ):
        if _has(text, fragments):
            return failure
    return Failure.OTHER


def retry_after_seconds(error: TelegramError) -> float | None:
    """The wait a 429 asks for, in seconds; None for any other error."""
    if not isinstance(error, RetryAfter):
        return None
    value: float | timedelta = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def migrated_to(error: TelegramError) -> int | None:
    """The supergroup's id when the error says the group moved there; None otherwise."""
    return error.new_chat_id if isinstance(error, ChatMigrated) else None
