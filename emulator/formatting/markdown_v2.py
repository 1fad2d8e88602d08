"""Telegram's MarkdownV2 parse mode: reserved characters, nesting, links, custom emoji, quotes.

The parser follows Telegram's own parser rule for rule, including its error texts, so a bot
whose markup Telegram would refuse is refused here too. It returns raw entities, which
`emulator.formatting.parse` normalizes the way Telegram does before a reader sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.formatting.entities import Entity, MarkupError, byte_offset, utf16_width
from emulator.formatting.links import checked_link, custom_emoji_id_from_link, link_user_id
from emulator.formatting.markdown import read_code_fence

_RESERVED = "_*[]()~`>#+-=|{}.!\n"

# Telegram's internal entity names, as its error messages spell them.
_TD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


def _reserved_error(ch: str) -> MarkupError:
    return MarkupError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


@dataclass
class _Open:
    kind: str
    argument: str
    offset: int  # UTF-16 offset in the plain text
    start: int  # index of the opening mark in the source text
    plain_start: int  # index in the plain text where the entity's text begins

    def name(self) -> str:
        if self.kind == "pre" and self.argument:
            return "PreCode"
        return _TD_NAMES[self.kind]


# One function, like Telegram's parser, so the two can be compared rule by rule.
def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:  # noqa: PLR0912, PLR0915
    """Parse MarkdownV2 into plain text and raw entities, or raise MarkupError."""
    size = len(text)

    def at(i: int) -> str:
        return text[i] if 0 <= i < size else ""

    def end_error(entity: _Open) -> MarkupError:
        return MarkupError(
            f"Can't find end of {entity.name()} entity at byte offset "
            f"{byte_offset(text, entity.start)}"
        )

    out: list[str] = []
    entities: list[Entity] = []
    nested: list[_Open] = []
    utf16 = 0
    have_blockquote = False
    can_start_blockquote = True
    i = 0
    while i < size:
        c = text[i]
        nxt = at(i + 1)
        if c == "\\" and nxt and 0 < ord(nxt) <= 126:
            i += 1
            utf16 += 1
            out.append(nxt)
            if nxt != "\r":
                can_start_blockquote = nxt == "\n"
            i += 1
            continue

        reserved = _RESERVED
        if nested and nested[-1].kind in ("code", "pre"):
            reserved = "`"
        if c not in reserved:
            utf16 += utf16_width(c)
            if c != "\r":
                can_start_blockquote = False
            out.append(c)
            i += 1
            continue

        is_end = False
        if nested:
            top = nested[-1].kind
            if have_blockquote and c == "\n" and at(i + 1) != ">":
                is_end = True
            elif top == "bold":
                is_end = c == "*"
            elif top == "italic":
                is_end = c == "_" and nxt != "_"
            elif top == "code":
                is_end = c == "`"
            elif top == "pre":
                is_end = c == "`" and nxt == "`" and at(i + 2) == "`"
            elif top in ("text_link", "custom_emoji"):
                is_end = c == "]"
            elif top == "underline":
                is_end = c == "_" and nxt == "_"
            elif top == "strikethrough":
                is_end = c == "~"
            elif top == "spoiler":
                is_end = c == "|" and nxt == "|"

        if not is_end:
            start = i
            argument = ""  # the language of a ``` block
            if c == "_":
                kind = "italic"
                if nxt == "_":
                    kind = "underline"
                    i += 1
            elif c == "*":
                kind = "bold"
            elif c == "~":
                kind = "strikethrough"
            elif c == "|":
                if nxt != "|":
                    raise _reserved_error(c)
                i += 1
                kind = "spoiler"
            elif c == "[":
                kind = "text_link"
            elif c == "`":
                if nxt == "`" and at(i + 2) == "`":
                    kind = "pre"
                    argument, i = read_code_fence(text, i + 3)
                    i -= 1
                else:
                    kind = "code"
            elif c == "!":
                if nxt != "[":
                    raise _reserved_error(c)
                i += 1
                kind = "custom_emoji"
            elif c == "\n":
                utf16 += 1
                out.append("\n")
                can_start_blockquote = True
                i += 1
                continue
            elif c == ">":
                if not can_start_blockquote:
                    raise _reserved_error(c)
                if have_blockquote:
                    i += 1
                    continue
                kind = "blockquote"
                have_blockquote = True
            else:
                raise _reserved_error(c)
            nested.append(_Open(kind, argument, utf16, start, len(out)))
            i += 1
            continue

        # end of an entity
        entity = nested[-1]
        kind = entity.kind
        if c == "\n" and kind != "blockquote":
            # "||" right before a line break closes an expandable blockquote, not a spoiler
            closes_expandable = kind == "spoiler" and (
                entity.start == i - 2 or (entity.start == i - 3 and bool(out) and out[-1] == "\r")
            )
            if not closes_expandable:
                raise end_error(entity)
            nested.pop()
            entity = nested[-1]
            if entity.kind != "blockquote":
                raise end_error(entity)
            kind = "expandable_blockquote"
        skip = utf16 == entity.offset
        url: str | None = None
        user_id: int | None = None
        emoji_id: str | None = None
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
        elif kind == "text_link":
            if at(i + 1) != "(":
                link = "".join(out[entity.plain_start :])
            else:
                i += 2
                link, i = _read_link(text, i, "Can't find end of a URL at byte offset")
            user_id = link_user_id(link)
            if user_id is None:
                url = checked_link(link)
                skip = skip or url is None
        elif kind == "custom_emoji":
            if at(i + 1) != "(":
                raise MarkupError("Custom emoji entity must contain a tg://emoji URL")
            i += 2
            link, i = _read_link(text, i, "Can't find end of a custom emoji URL at byte offset")
            emoji_id = custom_emoji_id_from_link(link)
        elif kind in ("blockquote", "expandable_blockquote"):
            have_blockquote = False
            out.append(c)
            can_start_blockquote = True
            utf16 += 1
            skip = False
        if not skip:
            length = utf16 - entity.offset
            if user_id is not None:
                entities.append(Entity("text_mention", entity.offset, length, user_id=user_id))
            elif kind == "text_link":
                entities.append(Entity("text_link", entity.offset, length, url=url))
            elif kind == "custom_emoji":
                entities.append(
                    Entity("custom_emoji", entity.offset, length, custom_emoji_id=emoji_id)
                )
            elif kind == "pre":
                entities.append(
                    Entity("pre", entity.offset, length, language=entity.argument or None)
                )
            else:
                entities.append(Entity(kind, entity.offset, length))
        nested.pop()
        i += 1

    if have_blockquote:
        kind = "blockquote"
        if nested[-1].kind == "spoiler" and nested[-1].start == size - 2:
            nested.pop()
            kind = "expandable_blockquote"
        if nested[-1].kind == "blockquote":
            length = utf16 - nested[-1].offset
            if length:
                entities.append(Entity(kind, nested[-1].offset, length))
            nested.pop()
    if nested:
        raise end_error(nested[-1])
    return "".join(out), entities


def _read_link(text: str, i: int, error: str) -> tuple[str, int]:
    """Read a "(...)" link target starting after the parenthesis; returns it and the ')' index."""
    begin = i
    chars: list[str] = []
    size = len(text)
    while i < size and text[i] != ")":
        if text[i] == "\\" and i + 1 < size and 0 < ord(text[i + 1]) <= 126:
            chars.append(text[i + 1])
            i += 2
            continue
        chars.append(text[i])
        i += 1
    if i >= size:
        raise MarkupError(f"{error} {byte_offset(text, begin)}")
    return "".join(chars), i
