"""Telegram's HTML parse mode: its tag subset, attributes and character references, parsed into
plain text and raw entities with Telegram's own refusals (TDLib's parse_html, rule for rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from emulator.formatting.entities import (
    Entity,
    MarkupError,
    ascii_lower,
    byte_offset,
    is_ascii_alnum,
    to_integer_safe,
    utf16_width,
)
from emulator.formatting.links import checked_link, link_user_id

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji"}
    | {"span", "pre", "code", "blockquote"}
)
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(text: str, pos: int) -> tuple[int, int]:
    """(code point, index after it) for the character reference at `pos`, or (0, pos)."""
    end = pos + 1
    if text[end : end + 1] == "#":
        end += 1
        is_hex = text[end : end + 1] == "x"
        end += is_hex
        digits = re.match(r"[0-9a-fA-F]*" if is_hex else r"[0-9]*", text[end:])
        number = digits.group() if digits else ""
        end += len(number)
        code = int(number, 16 if is_hex else 10) if number else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        letters = re.match(r"[A-Za-z]*", text[end:])
        name = letters.group() if letters else ""
        end += len(name)
        if name not in _HTML_NAMED:
            return 0, pos
        code = ord(_HTML_NAMED[name])
    return code, end + (text[end : end + 1] == ";")


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int
    plain_start: int


def parse_html(text: str) -> tuple[str, list[Entity]]:  # noqa: PLR0912, PLR0915
    """Parse Telegram's HTML subset into plain text and raw entities, or raise MarkupError."""
    size = len(text)

    def at(i: int) -> str:
        return text[i] if i < size else ""

    def space(ch: str) -> bool:
        return ch in ("", " ", "\t", "\r", "\n", "\0", "\v")

    def offset_of(i: int) -> int:
        return byte_offset(text, i)

    out: list[str] = []
    entities: list[Entity] = []
    nested: list[_OpenTag] = []
    utf16 = 0
    has_surrogate = False
    i = 0
    while i < size:
        c = text[i]
        if c == "&":
            code, after = _decode_html_entity(text, i)
            if code:
                has_surrogate = has_surrogate or 0xD800 <= code <= 0xDFFF
                out.append(chr(code))
                utf16 += utf16_width(chr(code))
                i = after
                continue
        if c != "<":
            out.append(c)
            utf16 += utf16_width(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while not space(at(i)) and at(i) != ">":
                i += 1
            if at(i) in ("", "\0"):
                raise MarkupError(f"Unclosed start tag at byte offset {offset_of(begin)}")
            tag = ascii_lower(text[begin + 1 : i])
            if tag not in _HTML_TAGS:
                raise MarkupError(
                    f'Unsupported start tag "{tag}" at byte offset {offset_of(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while at(i) not in ("", "\0") and space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                name_begin = i
                while not space(at(i)) and at(i) not in "=>/\"'":
                    i += 1
                attribute = text[name_begin:i]
                if not attribute:
                    where = offset_of(begin)
                    raise MarkupError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {where}'
                    )
                while at(i) not in ("", "\0") and space(at(i)):
                    i += 1
                if at(i) != "=":
                    if at(i) in ("", "\0"):
                        raise MarkupError(
                            f'Unclosed start tag "{tag}" at byte offset {offset_of(begin)}'
                        )
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) not in ("", "\0") and space(at(i)):
                    i += 1
                if at(i) in ("", "\0"):
                    raise MarkupError(
                        f'Unclosed start tag "{tag}" at byte offset {offset_of(begin)}'
                    )
                if at(i) not in ("'", '"'):
                    token_begin = i
                    while is_ascii_alnum(at(i)) or at(i) in (".", "-"):
                        i += 1
                    value = ascii_lower(text[token_begin:i])
                    if not space(at(i)) and at(i) != ">":
                        raise MarkupError(
                            f"Unexpected end of name token at byte offset {offset_of(token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while at(i) not in (quote, "", "\0"):
                        if text[i] == "&":
                            code, after = _decode_html_entity(text, i)
                            if code:
                                chars.append(chr(code))
                                i = after
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if at(i) in ("", "\0"):
                    raise MarkupError(f"Unclosed start tag at byte offset {offset_of(begin)}")
                if (tag == "a" and attribute == "href") or (
                    tag == "tg-emoji" and attribute == "emoji-id"
                ):
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "blockquote" and attribute == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise MarkupError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset_of(begin)}'
                )
            nested.append(_OpenTag(tag, argument, utf16, len(out)))
            i += 1
            continue

        # end tag
        if not nested:
            raise MarkupError(f"Unexpected end tag at byte offset {offset_of(begin)}")
        while not space(at(i)) and at(i) != ">":
            i += 1
        end_tag = ascii_lower(text[begin + 2 : i])
        while at(i) not in ("", "\0") and space(at(i)):
            i += 1
        if at(i) != ">":
            raise MarkupError(f"Unclosed end tag at byte offset {offset_of(begin)}")
        opened = nested.pop()
        if end_tag and end_tag != opened.name:
            raise MarkupError(
                f"Unmatched end tag at byte offset {offset_of(begin)}, "
                f'expected "</{opened.name}>", found "</{end_tag}>"'
            )
        i += 1
        if utf16 > opened.offset:
            _close_html_tag(
                opened, utf16 - opened.offset, "".join(out[opened.plain_start :]), entities
            )
    if nested:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{nested[-1].name}"')
    if has_surrogate:
        raise MarkupError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    # a <code> language only survives inside <pre>
    entities = [replace(e, language=None) if e.type == "code" else e for e in entities]
    return "".join(out), entities


def _close_html_tag(  # noqa: PLR0912
    opened: _OpenTag, length: int, inner: str, entities: list[Entity]
) -> None:
    offset, tag, argument = opened.offset, opened.name, opened.argument
    last = entities[-1] if entities else None
    same_span = last is not None and last.offset == offset and last.length == length
    if tag in _SIMPLE_TAGS:
        entities.append(Entity(_SIMPLE_TAGS[tag], offset, length))
    elif tag == "tg-emoji":
        try:
            emoji_id = to_integer_safe(argument, 64)
        except MarkupError:
            emoji_id = 0
        if emoji_id == 0:
            raise MarkupError("Invalid custom emoji identifier specified")
        entities.append(Entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id)))
    elif tag == "a":
        url = argument or inner
        user_id = link_user_id(url)
        if user_id is not None:
            entities.append(Entity("text_mention", offset, length, user_id=user_id))
        elif (checked := checked_link(url)) is not None:
            entities.append(Entity("text_link", offset, length, url=checked))
    elif tag == "pre":
        if same_span and last is not None and last.type == "code" and last.language:
            entities[-1] = Entity("pre", offset, length, language=last.language)
        else:
            entities.append(Entity("pre", offset, length))
    elif tag == "code":
        if same_span and last is not None and last.type == "pre" and argument:
            entities[-1] = Entity("pre", offset, length, language=argument)
        else:
            entities.append(Entity("code", offset, length, language=argument or None))
    else:
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append(Entity(kind, offset, length))
