"""The `Entity` value (a Bot API MessageEntity) and what every formatting rule counts with.

Offsets and lengths are UTF-16 code units; positions in Telegram's error texts are UTF-8 byte
offsets into the text the bot sent. Also here: the order Telegram keeps entities in, the
refusal (`MarkupError`) every parser raises, and the spelling rules the parsers share (ASCII
case folding, canonical numbers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Types a bot may send; "detected" ones are accepted but dropped, Telegram finds them itself.
FORMATTING_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "blockquote",
        "expandable_blockquote",
    }
)
DETECTED_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bank_card_number",
    }
)
# Telegram orders entities starting at one offset by length, then by this priority.
_PRIORITY = {
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "custom_emoji": 99,
    "blockquote": 0,
    "expandable_blockquote": 0,
}
MAX_USER_ID = (1 << 40) - 1


@dataclass(frozen=True)
class Entity:
    """One Bot API MessageEntity; offset and length count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    user_id: int | None = None
    custom_emoji_id: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to_api(self, users: Mapping[int, Mapping[str, object]] | None = None) -> dict[str, object]:
        """MessageEntity JSON; a text_mention carries `users[user_id]` or a bare User."""
        body: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            body["url"] = self.url
        if self.language is not None:
            body["language"] = self.language
        if self.user_id is not None:
            known = (users or {}).get(self.user_id)
            body["user"] = (
                dict(known)
                if known is not None
                else {"id": self.user_id, "is_bot": False, "first_name": ""}
            )
        if self.custom_emoji_id is not None:
            body["custom_emoji_id"] = self.custom_emoji_id
        return body


class MarkupError(Exception):
    """Telegram's own description of why markup or an entity was refused."""


def api_text(message: str) -> str:
    """A refusal as the Bot API words it: it lowercases the first letter of TDLib's texts."""
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return message
    return message[:1].lower() + message[1:]


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_width(ch: str) -> int:
    """UTF-16 code units of one character: two outside the Basic Multilingual Plane."""
    return 2 if ord(ch) > 0xFFFF else 1


def entity_text(text: str, entity: Entity) -> str:
    """The part of `text` an entity covers."""
    units = text.encode("utf-16-le", "surrogatepass")
    return units[entity.offset * 2 : entity.end * 2].decode("utf-16-le", "surrogatepass")


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of code point `index`, the unit of Telegram's error positions."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


def sort_key(entity: Entity) -> tuple[int, int, int]:
    """Telegram's order: by offset, the longer first, then by the type's priority."""
    return (entity.offset, -entity.length, _PRIORITY.get(entity.type, 50))


def remove_intersecting(entities: Sequence[Entity]) -> list[Entity]:
    """In Telegram's order, each entity that overlaps none kept before it."""
    kept: list[Entity] = []
    end = 0
    for entity in sorted(entities, key=sort_key):
        if entity.offset >= end:
            kept.append(entity)
            end = entity.end
    return kept


def ascii_lower(text: str) -> str:
    """`text` with only A-Z lowercased, as Telegram compares tags, schemes and parse modes."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def to_integer_safe(text: str, bits: int) -> int:
    """`text` as a signed integer of `bits` bits, or MarkupError naming it."""
    # Telegram accepts only the canonical spelling of a number ("025" and "1.0" are refused).
    if re.fullmatch(r"-?[1-9][0-9]*|0", text):
        value = int(text)
        if -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            return value
    raise MarkupError(f'Can\'t parse "{text}" as number')
