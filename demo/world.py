"""The demo's people and chats: an editor, readers in private chats, groups and a channel.

Everything here happens the way it would in Telegram: readers send /subscribe, group owners add
the bot and subscribe their group, the channel's editor makes the bot an admin and posts
/subscribe, and the editor publishes by replying /publish to a Markdown file they sent. The
helpers that read chats find an article's card by its "Read the full article" button.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.runtime.error_handler import SOMETHING_WENT_WRONG
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser

_FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam",
    "Maya", "Noah", "Olga", "Pia", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Vik", "Wren", "Yuki",
    "Zoe", "Amir", "Bea", "Cyril", "Dara", "Emil", "Farah", "Gus", "Hana", "Ivo", "Jade", "Kofi",
)  # fmt: skip
_GROUPS = (("Harbour Watchers", False), ("Eastfield Gardeners", True), ("Millbrook Makers", False))
CHANNEL_TITLE = "Coast Brief"
SUBSCRIBED_MARK = "Subscribed"
SUBSCRIBE_GAP = 0.01  # seconds between two readers' /subscribe
FETCHING = "Fetching …"
_PUBLISHED = re.compile(r"Published article (\d+): queued for (\d+) chats?\.")


@dataclass(frozen=True)
class Audience:
    """Who takes part: the editor (a bot admin), readers, and the chats subscribed to the bot."""

    editor: SimUser
    readers: tuple[SimUser, ...]
    groups: tuple[SimChat, ...]
    channel: SimChat
    # Which group each reader belongs to, if any (a reader is in at most one here).
    group_of: dict[int, SimChat]

    def private_chats(self, emulator: Emulator) -> list[SimChat]:
        return [emulator.private_chat(reader) for reader in self.readers]

    def subscribed_chats(self, emulator: Emulator) -> list[SimChat]:
        """Every chat that should get each article: private chats, groups, the channel."""
        return [*self.private_chats(emulator), *self.groups, self.channel]


@dataclass(frozen=True)
class Published:
    """One article as the editor published it: the bot's answer and the chats it queued."""

    article_id: int
    queued: int
    source: Path


def reader_name(number: int) -> tuple[str, str]:
    """A first name and a last initial, different for each of the first few thousand readers."""
    first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
    initial = chr(ord("A") + (number // len(_FIRST_NAMES)) % 26)
    return first, f"{initial}."


def create_audience(emulator: Emulator, *, readers: int) -> Audience:
    """The people and chats of the demo; nothing is sent to the bot yet."""
    editor = emulator.create_user("Edith", username="edith_editor", last_name="Desk")
    people = []
    for number in range(readers):
        first, last = reader_name(number)
        people.append(emulator.create_user(first, last_name=last))
    groups: list[SimChat] = []
    group_of: dict[int, SimChat] = {}
    for index, (title, supergroup) in enumerate(_GROUPS):
        # Three readers in five belong to one of the groups; the first of them owns it.
        members = people[index::5]
        if not members:
            continue
        group = emulator.create_group(
            title, creator=members[0], members=members[1:], supergroup=supergroup
        )
        groups.append(group)
        group_of.update((member.id, group) for member in members)
    channel = emulator.create_channel(CHANNEL_TITLE, creator=editor, username="coast_brief")
    return Audience(editor, tuple(people), tuple(groups), channel, group_of)


def group_owner(group: SimChat) -> SimUser:
    return next(m.user for m in group.members.values() if m.status == "creator")


async def subscribe_everyone(emulator: Emulator, audience: Audience) -> None:
    """Each reader, group owner and the channel's editor subscribes through the bot."""
    for reader in audience.readers:
        await emulator.send_message(reader, "/subscribe")
        # Readers arrive over a few seconds, not all in the same millisecond.
        await asyncio.sleep(SUBSCRIBE_GAP)
    for group in audience.groups:
        owner = group_owner(group)
        await emulator.add_bot_to_chat(group, by=owner)
        await emulator.send_message(owner, "/subscribe", chat=group)
    await emulator.add_bot_to_chat(audience.channel, by=audience.editor, admin=True)
    await emulator.post_in_channel(audience.editor, audience.channel, "/subscribe")


async def subscribe_again(emulator: Emulator, audience: Audience, chat: SimChat) -> None:
    """What a reader does after an error reply: send /subscribe once more."""
    if chat is audience.channel:
        await emulator.post_in_channel(audience.editor, chat, "/subscribe")
    elif chat.type == "private" and chat.user is not None:
        await emulator.send_message(chat.user, "/subscribe")
    else:
        await emulator.send_message(group_owner(chat), "/subscribe", chat=chat)


def error_replies(emulator: Emulator, chat: SimChat) -> int:
    """How many times the bot answered in this chat that something went wrong."""
    return sum(1 for m in emulator.bot_messages(chat) if m.text == SOMETHING_WENT_WRONG)


def is_confirmed(emulator: Emulator, chat: SimChat) -> bool:
    """Whether the bot has confirmed the chat's subscription."""
    return any(SUBSCRIBED_MARK in (m.text or "") for m in emulator.bot_messages(chat))


def count_confirmed(emulator: Emulator, chats: list[SimChat]) -> int:
    return sum(1 for chat in chats if is_confirmed(emulator, chat))


async def publish_file(
    emulator: Emulator, editor: SimUser, source: Path, *, timeout: float = 30.0
) -> Published:
    """The editor sends the Markdown file, replies /publish to it and reads the bot's answer."""
    data = await asyncio.to_thread(source.read_bytes)
    upload = await emulator.send_message(editor, "", document=(source.name, data))
    command = await emulator.send_message(editor, "/publish", reply_to=upload)
    chat = emulator.private_chat(editor)
    status = await emulator.wait_for_bot_message(chat, after=command.message_id, timeout=timeout)
    outcome = await emulator.wait_for(
        lambda: None if status.text == FETCHING else status.text,
        timeout=timeout,
        what=f"the outcome of publishing {source.name}",
    )
    # The outcome's first line; the headline follows on the next.
    if (match := _PUBLISHED.match(outcome)) is None:
        raise RuntimeError(f"publishing {source.name} failed: {outcome}")
    return Published(int(match[1]), int(match[2]), source)


def card_finder(url: str) -> Callable[[SimMessage], bool]:
    """A test for the message that carries an article's keyboard (its link and poll)."""

    def is_card(message: SimMessage) -> bool:
        return any(button.get("url") == url for row in message.buttons for button in row)

    return is_card


def cards_in(emulator: Emulator, chat: SimChat, url: str) -> list[SimMessage]:
    """The article's card messages in the chat: one after a delivery, more would be a repeat."""
    is_card = card_finder(url)
    return [message for message in emulator.bot_messages(chat) if is_card(message)]
