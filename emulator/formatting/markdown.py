"""Telegram's legacy "Markdown" parse mode (*bold*, _italic_, `code`, ```pre```, [text](url)),
and the code-fence rule MarkdownV2 shares with it.

The parser follows Telegram's own rule for rule, including its error texts; it returns raw
entities, which `emulator.formatting.parse` normalizes as Telegram does.
"""

from __future__ import annotations

from emulator.formatting.entities import Entity, MarkupError, byte_offset, utf16_width
from emulator.formatting.links import checked_link, link_user_id


def is_space(ch: str) -> bool:
    """Telegram's is_space, which also matches the end of the text (its C strings end in '\\0')."""
    return ch in ("", " ", "\t", "\r", "\n", "\0", "\v")


def read_code_fence(text: str, i: int) -> tuple[str, int]:
    """After an opening ``` ending before `i`: the block's language and where its text begins."""
    size = len(text)

    def at(k: int) -> str:
        return text[k] if 0 <= k < size else ""

    language = ""
    language_end = i
    while not is_space(at(language_end)) and at(language_end) != "`":
        language_end += 1
    if i != language_end and language_end < size and at(language_end) != "`":
        language = text[i:language_end]
        i = language_end
    # Telegram skips one line break right after the opening fence.
    if at(i) in ("\n", "\r"):
        i += 2 if at(i + 1) in ("\n", "\r") and at(i) != at(i + 1) else 1
    return language, i


def parse_markdown(text: str) -> tuple[str, list[Entity]]:  # noqa: PLR0912, PLR0915
    """Parse legacy Markdown (*bold*, _italic_, `code`, ```pre```, [text](url))."""
    size = len(text)

    def at(i: int) -> str:
        return text[i] if 0 <= i < size else ""

    out: list[str] = []
    entities: list[Entity] = []
    utf16 = 0
    i = 0
    while i < size:
        c = text[i]
        if c == "\\" and at(i + 1) in ("_", "*", "`", "["):
            out.append(text[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in "_*`[":
            utf16 += utf16_width(c)
            out.append(c)
            i += 1
            continue

        begin = i
        end_char = "]" if c == "[" else c
        is_pre = False
        language = ""
        i += 1
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            is_pre = True
            language, i = read_code_fence(text, i + 2)

        entity_offset = utf16
        content_start = len(out)
        while i < size and (
            text[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))
        ):
            utf16 += utf16_width(text[i])
            out.append(text[i])
            i += 1
        if i == size:
            raise MarkupError(
                f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}"
            )
        length = utf16 - entity_offset
        if length:
            if c == "_":
                entities.append(Entity("italic", entity_offset, length))
            elif c == "*":
                entities.append(Entity("bold", entity_offset, length))
            elif c == "[":
                if at(i + 1) != "(":
                    link = "".join(out[content_start:])
                else:
                    i += 2
                    chars: list[str] = []
                    while i < size and text[i] != ")":
                        chars.append(text[i])
                        i += 1
                    link = "".join(chars)
                user_id = link_user_id(link)
                if user_id is not None:
                    entities.append(Entity("text_mention", entity_offset, length, user_id=user_id))
                elif (url := checked_link(link)) is not None:
                    entities.append(Entity("text_link", entity_offset, length, url=url))
            elif is_pre:
                entities.append(Entity("pre", entity_offset, length, language=language or None))
            else:
                entities.append(Entity("code", entity_offset, length))
        if is_pre:
            i += 2
        i += 1
    return "".join(out), entities
