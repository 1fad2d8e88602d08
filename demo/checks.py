"""The demo's self-checks: what readers' chats show, compared with what the bot stored.

Each check looks at the emulator (what every chat shows, every answer Telegram gave) and at the
database, and says in one line what it found. The demo passes only when every check does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.articles.card import PollMessageContent, render_card_for_poll_update
from bot.articles.loader import card_article
from demo.voting import DemoPoll
from demo.world import cards_in
from emulator.formatting import parse_text
from emulator.simulation import Emulator, SimChat, SimMessage
from storage import articles, polls
from storage.engine import Database


@dataclass(frozen=True)
class Check:
    """One self-check: its name, whether it passed, and what it found."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class PollCopy:
    """What every message showing a poll must show: its text as readers see it, its buttons."""

    text: str
    buttons: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, content: PollMessageContent) -> PollCopy:
        text, _ = parse_text(content.text_html, "HTML", None)
        rows = content.markup.to_dict()["inline_keyboard"]
        return cls(text, tuple(tuple(str(b.get("text")) for b in row) for row in rows))

    def shown_by(self, message: SimMessage) -> bool:
        buttons = tuple(tuple(str(b.get("text")) for b in row) for row in message.buttons)
        return message.text == self.text and buttons == self.buttons


async def stored_copy(db: Database, poll: DemoPoll) -> PollCopy:
    """The poll's message as rendered from the database's counts."""
    async with db.transaction() as session:
        view = await polls.poll_view(session, poll_id=poll.poll_id)
        record = await polls.poll_record(session, poll_id=poll.poll_id)
        article = (
            await articles.get_article(session, article_id=record.article_id)
            if record is not None and record.article_id is not None
            else None
        )
    if view is None or article is None:
        raise LookupError(f"poll {poll.poll_id} or its article is not stored")
    return PollCopy.of(render_card_for_poll_update(card_article(article), poll=view))


async def stored_counts(db: Database, poll_id: int) -> tuple[int, ...]:
    async with db.transaction() as session:
        view = await polls.poll_view(session, poll_id=poll_id)
    if view is None:
        raise LookupError(f"poll {poll_id} is not stored")
    return view.tally.counts


def count_current(
    emulator: Emulator, chats: Sequence[SimChat], expected: dict[str, PollCopy]
) -> tuple[int, int]:
    """How many copies of the polls show the expected content, and how many copies there are."""
    current = total = 0
    for chat in chats:
        for url, copy in expected.items():
            for message in cards_in(emulator, chat, url):
                total += 1
                current += copy.shown_by(message)
    return current, total


def check_each_card_once(
    emulator: Emulator, chats: Sequence[SimChat], urls: dict[str, str]
) -> Check:
    """Every subscribed chat shows each article's card exactly once (`urls`: address → title)."""
    wrong = []
    for chat in chats:
        for url, title in urls.items():
            if (count := len(cards_in(emulator, chat, url))) != 1:
                wrong.append(f"chat {chat.id} has {count} cards of {title!r}")
    expected = len(chats) * len(urls)
    if wrong:
        return Check("each card once", False, f"{len(wrong)} wrong, e.g. {wrong[0]}")
    return Check(
        "each card once",
        True,
        f"{expected} cards: {len(urls)} articles x {len(chats)} chats, none missing or repeated",
    )


def check_copies(current: int, total: int, polls_count: int) -> Check:
    name = "copies show stored totals"
    if total == 0:
        return Check(name, False, "no poll copies found")
    if current != total:
        return Check(name, False, f"{total - current} of {total} copies show other totals")
    return Check(name, True, f"all {total} copies of {polls_count} polls match the database")


def check_votes(
    stored: dict[int, tuple[int, ...]],
    intended: dict[int, tuple[int, ...]],
    *,
    changes: int,
    retractions: int,
) -> Check:
    """The database's counts equal what the readers meant, after changes and retractions."""
    name = "votes stored as cast"
    for poll_id, counts in intended.items():
        if stored.get(poll_id) != counts:
            return Check(
                name, False, f"poll {poll_id}: stored {stored.get(poll_id)}, cast {counts}"
            )
    total = sum(sum(counts) for counts in intended.values())
    return Check(
        name,
        True,
        f"{total} votes in {len(intended)} polls: each voter's last choice "
        f"({changes} changes of mind, {retractions} retractions)",
    )


def check_taps(pressed: int, answered: int, failures: Sequence[str]) -> Check:
    name = "every tap answered"
    if failures:
        return Check(name, False, f"{len(failures)} failed, e.g. {failures[0]}")
    return Check(name, answered == pressed, f"{answered} of {pressed} taps answered")


def check_no_flood(emulator: Emulator) -> Check:
    refused = emulator.count_errors(429)
    sent = len(emulator.requests())
    return Check(
        "no 429 from Telegram",
        refused == 0,
        f"{refused} of {sent} requests refused with 429 Too Many Requests",
    )
