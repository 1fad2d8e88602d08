"""Pure pieces of delivery: error classification, times, /broadcast options, progress text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.broadcasts.progress import Progress, progress_of, render_progress
from bot.broadcasts.request import BroadcastRequestError, read_broadcast_command
from bot.delivery.engine import backoff_seconds
from bot.schedule.when import WhenError, parse_moment
from bot.telegram.errors import Failure, classify
from storage.models import ChatKind, DeliveryStatus


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (RetryAfter(3), Failure.FLOOD),
        (ChatMigrated(-100123), Failure.MIGRATED),
        (Forbidden("Forbidden: bot was blocked by the user"), Failure.BLOCKED),
        (Forbidden("Forbidden: bot was kicked from the supergroup chat"), Failure.KICKED),
        (BadRequest("Chat not found"), Failure.CHAT_NOT_FOUND),
        (
            BadRequest("Message is not modified: specified new message content"),
            Failure.NOT_MODIFIED,
        ),
        (BadRequest("Message to edit not found"), Failure.MESSAGE_GONE),
        (BadRequest("Message to delete not found"), Failure.MESSAGE_GONE),
        (BadRequest("Message can't be deleted"), Failure.CANNOT_DELETE),
        (BadRequest("Message can't be deleted for everyone"), Failure.CANNOT_DELETE),
        (BadRequest("Can't parse entities: can't find end of the entity"), Failure.BAD_MARKUP),
        (BadRequest("Need administrator rights in the channel chat"), Failure.KICKED),
        (BadRequest("Message is too long"), Failure.OTHER),
        (BadRequest("Message thread not found"), Failure.TOPIC_DELETED),
        (BadRequest("Topic_closed"), Failure.TOPIC_CLOSED),
        (TimedOut(), Failure.TRANSIENT),
        (NetworkError("connection reset"), Failure.TRANSIENT),
    ],
)
def test_classify(error: Exception, failure: Failure) -> None:
    """Each Telegram error maps to the one Failure the bot acts on."""
    assert classify(error) is failure  # type: ignore[arg-type]


def test_times_in_the_bot_zone() -> None:
    """ "18:00" is today in TIMEZONE; a date and time is exact; the past is refused."""
    zone = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_moment("18:00", zone=zone, now=now) == datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    assert parse_moment("2026-12-01 09:00", zone=zone, now=now) == datetime(
        2026, 12, 1, 8, 0, tzinfo=UTC
    )
    with pytest.raises(WhenError, match="already passed"):
        parse_moment("09:00", zone=zone, now=now)
    with pytest.raises(WhenError, match="not a valid"):
        parse_moment("2026-02-30 09:00", zone=zone, now=now)


def test_broadcast_topic_is_read_as_readers_sections_are_stored() -> None:
    """--topic names a section the way sections are stored (case folded), so it finds the
    readers who follow it however either was spelled."""
    request = read_broadcast_command("/broadcast --topic Straße Roadworks tonight")
    assert request.topics == ("strasse",)


def test_broadcast_options() -> None:
    """Options before the text are read; the text starts after them."""
    text = "/broadcast@newsdesk_bot --groups --topic Climate at 2026-12-01 09:00 Hello --there"
    request = read_broadcast_command(text)
    assert request.kinds == (ChatKind.GROUP, ChatKind.SUPERGROUP)
    assert request.topics == ("climate",)
    assert request.when == "2026-12-01 09:00"
    assert text[request.body_start :] == "Hello --there"
    with pytest.raises(BroadcastRequestError, match="Unknown option --everyone"):
        read_broadcast_command("/broadcast --everyone hi")


def test_progress_counts_and_text() -> None:
    """Rows fold into sent, failed, blocked, cancelled and remaining, shown with rate and ETA."""
    progress = progress_of(
        {
            (DeliveryStatus.SENT, None): 50,
            (DeliveryStatus.FAILED, "blocked"): 3,
            (DeliveryStatus.CANCELLED, "chat_inactive"): 2,
            (DeliveryStatus.FAILED, "other"): 1,
            (DeliveryStatus.PENDING, None): 40,
            (DeliveryStatus.SENDING, None): 10,
        }
    )
    assert progress == Progress(sent=50, failed=1, blocked=5, cancelled=0, remaining=50)
    text = render_progress(7, progress, rate=25.0)
    assert "Sent: 50 · Failed: 1 · Blocked: 5 · Remaining: 50" in text
    assert "Rate: 25.0/s · ETA: 2s" in text


def test_backoff_grows_and_is_capped() -> None:
    """Network retries wait 1, 2, 4 ... seconds, never more than a minute."""
    assert [backoff_seconds(n) for n in (1, 2, 3, 10)] == [1.0, 2.0, 4.0, 60.0]
