"""Reading `/broadcast [--groups|--private|--channels] [--topic NAME] [--urgent] [at WHEN] text`:
who it goes to, whether it passes readers' quiet hours, when, and where its text starts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.telegram.command_input import echo
from newsroom.sections import section_name
from storage.models import ChatKind

TARGET_FLAGS: dict[str, tuple[ChatKind, ...]] = {
    "--groups": (ChatKind.GROUP, ChatKind.SUPERGROUP),
    "--private": (ChatKind.PRIVATE,),
    "--channels": (ChatKind.CHANNEL,),
}
# Goes out during readers' quiet hours too.
URGENT_FLAG = "--urgent"
_COMMAND = re.compile(r"\s*/\w+(?:@\w+)?")
_TOPIC = re.compile(r"\s+--topic(?:=|\s+)(?P<topic>[\w-]+)(?=\s|$)", re.IGNORECASE)
_FLAG = re.compile(r"\s+(?P<flag>--[a-z]+)(?=\s|$)", re.IGNORECASE)
_AT = re.compile(
    r"\s+at\s+(?P<when>(?:\d{4}-\d{2}-\d{2}\s+)?\d{1,2}:\d{2})(?=\s|$)", re.IGNORECASE
)


class BroadcastRequestError(ValueError):
    """The command could not be read; the message says why, for the admin."""


@dataclass(frozen=True)
class BroadcastRequest:
    kinds: tuple[ChatKind, ...] = ()
    topics: tuple[str, ...] = ()
    # "at ..." as written ("18:00" or "2026-12-01 09:00"), to be read in the bot's time zone.
    when: str | None = None
    # Where the message text starts, in characters of the command's text.
    body_start: int = 0
    # Sent at once even to readers inside their quiet hours.
    urgent: bool = False


def read_broadcast_command(text: str) -> BroadcastRequest:
    """The targets, the time and where the text starts; options come before the text."""
    position = 0
    if (command := _COMMAND.match(text)) is not None:
        position = command.end()
    kinds: list[ChatKind] = []
    topics: list[str] = []
    when: str | None = None
    urgent = False
    while True:
        if (topic := _TOPIC.match(text, position)) is not None:
            # Stored as readers' sections are, so "--topic Sport" reaches those following sport.
            topics.append(section_name(topic.group("topic")))
            position = topic.end()
        elif (flag := _FLAG.match(text, position)) is not None:
            name = flag.group("flag").lower()
            if name == URGENT_FLAG:
                urgent = True
            elif name in TARGET_FLAGS:
                kinds.extend(kind for kind in TARGET_FLAGS[name] if kind not in kinds)
            else:
                known = ", ".join([*TARGET_FLAGS, "--topic NAME", URGENT_FLAG])
                raise BroadcastRequestError(f"Unknown option {echo(name, 40)}; use {known}.")
            position = flag.end()
        elif when is None and (at := _AT.match(text, position)) is not None:
            when = re.sub(r"\s+", " ", at.group("when"))
            position = at.end()
        else:
            break
    while position < len(text) and text[position].isspace():
        position += 1
    return BroadcastRequest(tuple(kinds), tuple(topics), when, position, urgent)
