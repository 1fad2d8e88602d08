"""Readers' choices in the demo: a reader who takes a morning digest instead of instant cards,
and a forum group that follows the bot in two of its topics.

The digest reader chooses it the way any reader would, through /settings and its buttons, at
an hour shortly after the demo starts; the demo then moves the bot's clock to that hour (the
bot reads digest times from its clock), and the digest arrives listing every article. The forum's
owner sends /subscribe inside each topic; each topic then gets every card, and its poll copies
stay live like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.preferences.view import digest_time
from demo.checks import Check, PollCopy
from demo.world import SUBSCRIBED_MARK, card_finder
from emulator.simulation import Emulator, ForumTopic, SimChat, SimMessage, SimUser
from storage.types import utcnow

FORUM_TITLE = "Coastal Forum"
TOPIC_NAMES = ("Harbour talk", "Weather watch")
DIGEST_TITLE = "Your daily digest"
_WAIT = 30.0


@dataclass
class DemoClock:
    """The bot's clock: the real time, moved forward when the demo skips to the next digest."""

    ahead: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return utcnow() + self.ahead


@dataclass(frozen=True)
class Forum:
    """A forum supergroup, its owner, and the topics that subscribed."""

    chat: SimChat
    owner: SimUser
    topics: tuple[ForumTopic, ...]

    def cards(self, emulator: Emulator, topic: ForumTopic, url: str) -> list[SimMessage]:
        return [m for m in emulator.topic_messages(self.chat, topic) if card_finder(url)(m)]


async def forum_following_two_topics(emulator: Emulator) -> Forum:
    """The forum's owner adds the bot and sends /subscribe inside each of two topics."""
    owner = emulator.create_user("Marta", last_name="Lind")
    chat = emulator.create_forum(FORUM_TITLE, creator=owner)
    await emulator.add_bot_to_chat(chat, by=owner, admin=True)
    topics = tuple(emulator.create_topic(chat, name, by=owner) for name in TOPIC_NAMES)
    for topic in topics:
        await emulator.send_message(owner, "/subscribe", chat=chat, topic=topic)

        def subscribed(topic: ForumTopic = topic) -> bool:
            shown = emulator.topic_messages(chat, topic)
            return any(m.from_bot and SUBSCRIBED_MARK in (m.text or "") for m in shown)

        await emulator.wait_for(subscribed, timeout=_WAIT, what=f"{topic.name!r} subscribed")
    return Forum(chat, owner, topics)


async def choose_daily_digest(emulator: Emulator, reader: SimUser, *, hour: int) -> None:
    """The reader subscribes, then picks a daily digest at `hour` through /settings' buttons."""
    chat = emulator.private_chat(reader)
    sent = await emulator.send_message(reader, "/subscribe")
    await emulator.wait_for_bot_message(chat, after=sent.message_id, timeout=_WAIT)
    sent = await emulator.send_message(reader, "/settings")
    settings = await emulator.wait_for_bot_message(chat, after=sent.message_id, timeout=_WAIT)
    for label in ("Delivery", "Daily digest", digest_time(hour)):
        # Each tap edits the one settings message: its next button shows once that edit lands.
        def offered(label: str = label) -> bool:
            return any(button.get("text") == label for row in settings.buttons for button in row)

        await emulator.wait_for(offered, timeout=_WAIT, what=f"the {label!r} button")
        await emulator.press_button(reader, settings, text=label, timeout=_WAIT)


def next_hour(zone: ZoneInfo, now: datetime) -> tuple[int, timedelta]:
    """The next whole local hour, and how far past now (plus two minutes) it lies."""
    local = now.astimezone(zone)
    due = (local + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return due.hour, due - local + timedelta(minutes=2)


def digests_in(emulator: Emulator, reader: SimUser) -> list[SimMessage]:
    return [
        m
        for m in emulator.bot_messages(emulator.private_chat(reader))
        if (m.text or "").startswith(DIGEST_TITLE)
    ]


def check_digest(emulator: Emulator, reader: SimUser, titles: dict[str, str]) -> Check:
    """The digest reader got one digest naming every article (`titles`: address → title), and
    no card of any."""
    name = "digest reader"
    digests = digests_in(emulator, reader)
    shown = emulator.bot_messages(emulator.private_chat(reader))
    cards = [m for url in titles for m in shown if card_finder(url)(m)]
    if len(digests) != 1:
        return Check(name, False, f"{len(digests)} digests arrived, not one")
    missing = [title for title in titles.values() if title not in (digests[0].text or "")]
    if missing or cards:
        return Check(name, False, f"missing {missing!r}; {len(cards)} instant cards")
    return Check(name, True, f"one daily digest listing all {len(titles)} articles, no cards")


def check_forum(
    emulator: Emulator, forum: Forum, urls: Sequence[str], expected: dict[str, PollCopy]
) -> Check:
    """Each subscribed topic shows each card once, and its poll copies the stored totals."""
    name = "forum topics"
    for topic in forum.topics:
        for url in urls:
            found = forum.cards(emulator, topic, url)
            if len(found) != 1:
                return Check(name, False, f"{topic.name!r} has {len(found)} cards of {url}")
            if url in expected and not expected[url].shown_by(found[0]):
                return Check(name, False, f"{topic.name!r}: a poll copy shows other totals")
    return Check(
        name,
        True,
        f"{len(forum.topics)} topics x {len(urls)} cards, each once, poll copies up to date",
    )
