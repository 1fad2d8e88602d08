"""What Telegram does to every text before a reader sees it, whatever the parse mode.

Control characters become spaces, carriage returns and direction marks vanish, nested and
overlapping entities are split or dropped, whitespace-only entities go, the text is trimmed, and
the entities Telegram detects by itself join the bot's own (TDLib's fix_formatted_text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from emulator.formatting.detection import detect_entities
from emulator.formatting.entities import (
    MAX_USER_ID,
    Entity,
    MarkupError,
    byte_offset,
    remove_intersecting,
    sort_key,
    utf16_width,
)

_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_QUOTES = frozenset({"blockquote", "expandable_blockquote"})
_CODE = frozenset({"pre", "code"})
_HIDDEN_DATA = frozenset({"text_link", "text_mention", "pre", "code"})


def normalize(text: str, entities: Iterable[Entity]) -> tuple[str, list[Entity]]:
    """Apply what Telegram does to every outgoing text: the message a reader receives.

    Control characters become spaces, carriage returns and direction marks vanish, nested and
    overlapping entities are split or dropped, whitespace-only entities go, the text is trimmed,
    and links, mentions, hashtags and commands are detected. Raises MarkupError for entities that
    do not fit the text.
    """
    found = list(entities)
    for entity in found:
        if not 0 <= entity.offset <= 1_000_000:
            raise MarkupError(f"Receive an entity with incorrect offset {entity.offset}")
        if not 0 <= entity.length <= 1_000_000:
            raise MarkupError(f"Receive an entity with incorrect length {entity.length}")
    found = _fix_entities(_remove_empty(found))
    text, found = _clean_text(text, found)
    last = _remove_invalid(text, found)
    if last is None:
        return "", []
    found = _fix_entities(found)
    text, found = _trim(text, found, last)
    found = _merge_detected(found, detect_entities(text))
    _remove_invalid(text, found)
    return text, sorted((e for e in found if e.length > 0), key=sort_key)


def _remove_empty(entities: Iterable[Entity]) -> list[Entity]:
    def keep(entity: Entity) -> bool:
        if entity.length <= 0:
            return False
        if entity.type == "text_link":
            return bool(entity.url)
        if entity.type == "text_mention":
            return entity.user_id is not None and 0 < entity.user_id <= MAX_USER_ID
        if entity.type == "custom_emoji":
            return entity.custom_emoji_id not in (None, "0")
        return True

    return [entity for entity in entities if keep(entity)]


def _remove_crossing_quotes(entities: Sequence[Entity], quotes: Sequence[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    for entity in entities:
        quote = next((q for q in quotes if q.end > entity.offset), None)
        if quote is not None and (
            quote.end < entity.end or entity.offset < quote.offset < entity.end
        ):
            continue
        kept.append(entity)
    return kept


def _fix_entities(entities: Sequence[Entity]) -> list[Entity]:
    """Telegram's fix_entities: no overlaps, and bold/italic/... split around everything else."""
    splittable = [e for e in entities if e.type in _SPLITTABLE]
    quotes = [e for e in entities if e.type in _QUOTES]
    others = remove_intersecting([e for e in entities if e.type not in _SPLITTABLE | _QUOTES])
    if quotes:
        quotes = remove_intersecting(quotes)
        others = _remove_crossing_quotes(others, quotes) + quotes
    return sorted(_resplit(splittable, others) + others, key=sort_key)


def _resplit(splittable: Sequence[Entity], others: Sequence[Entity]) -> list[Entity]:
    # Same-type spans merge; they are cut at every edge of another entity and never enter code.
    cuts = {edge for e in others for edge in (e.offset, e.end)}
    inside_code = {p for e in others if e.type in _CODE for p in range(e.offset, e.end)}
    result: list[Entity] = []
    for kind in sorted({e.type for e in splittable}):
        covered = {p for e in splittable if e.type == kind for p in range(e.offset, e.end)}
        start = previous = None
        for position in sorted(covered - inside_code):
            if start is None or previous is None:
                start = position
            elif position != previous + 1 or position in cuts:
                result.append(Entity(kind, start, previous + 1 - start))
                start = position
            previous = position
        if start is not None and previous is not None:
            result.append(Entity(kind, start, previous + 1 - start))
    return result


def _is_removed_char(code: int) -> bool:
    return 0x2028 <= code <= 0x202E or code in (0x0333, 0x033F, 0x030A)


def _clean_text(text: str, entities: Sequence[Entity]) -> tuple[str, list[Entity]]:
    """Telegram's clean_input_string: control characters to spaces, '\\r' and marks removed."""
    starts: list[int] = []  # UTF-16 offset of each code point
    removed_before: list[int] = []  # UTF-16 units removed before each code point
    chars: list[str] = []
    utf16 = removed = 0
    for ch in text:
        starts.append(utf16)
        removed_before.append(removed)
        width = utf16_width(ch)
        utf16 += width
        if ch == "\r" or _is_removed_char(ord(ch)):
            removed += width
        elif ord(ch) < 32 and ch != "\n":
            chars.append(" ")
        else:
            chars.append(ch)
    starts.append(utf16)
    removed_before.append(removed)
    index_of = {offset: k for k, offset in enumerate(starts)}

    def position(offset: int, entity: Entity, *, is_end: bool) -> int:
        if offset > utf16:
            if is_end:
                raise MarkupError(
                    f"Entity beginning at UTF-16 offset {entity.offset} ends after the end of "
                    f"the text at UTF-16 offset {entity.end}"
                )
            raise MarkupError(f"Entity begins after the end of the text at UTF-16 offset {offset}")
        k = index_of.get(offset)
        if k is None:
            at_byte = byte_offset(text, index_of[offset + 1])
            if is_end:
                raise MarkupError(
                    f"Entity beginning at UTF-16 offset {entity.offset} ends in a middle of a "
                    f"UTF-16 symbol at byte offset {at_byte}"
                )
            raise MarkupError(
                f"Entity begins in a middle of a UTF-16 symbol at byte offset {at_byte}"
            )
        return offset - removed_before[k]

    fixed = []
    for entity in entities:
        begin = position(entity.offset, entity, is_end=False)
        end = position(entity.end, entity, is_end=True)
        fixed.append(replace(entity, offset=begin, length=end - begin))
    return "".join(chars), fixed


def _remove_invalid(text: str, entities: list[Entity]) -> tuple[int, int] | None:
    """Drop whitespace-only entities and trim leading whitespace off the others, in place.

    Returns (index, UTF-16 offset) of the last non-whitespace character, None if there is none.
    """
    work = sorted(_remove_empty(entities), key=sort_key)
    stack: list[int] = []
    current = 0
    last_index, last_utf16 = -1, -1
    utf16 = 0
    for index in range(len(text) + 1):
        while stack:
            top = work[stack[-1]]
            if utf16 < top.end:
                break
            if not (last_utf16 >= top.offset or top.type in _HIDDEN_DATA):
                work[stack[-1]] = replace(top, length=0)
            stack.pop()
        while current < len(work) and utf16 >= work[current].offset:
            stack.append(current)
            current += 1
        if index == len(text):
            break
        ch = text[index]
        if stack and work[stack[-1]].offset == utf16 and ch in " \n":
            for k in reversed(list(stack)):
                entity = work[k]
                if entity.offset != utf16 or entity.type in _HIDDEN_DATA:
                    break
                work[k] = replace(entity, offset=entity.offset + 1, length=entity.length - 1)
                if work[k].length == 0:
                    stack.remove(k)
        if ch not in " \n":
            utf16 += ord(ch) > 0xFFFF
            last_index, last_utf16 = index, utf16
        utf16 += 1
    entities[:] = _remove_empty(work)
    return None if last_utf16 == -1 else (last_index, last_utf16)


def _trim(
    text: str, entities: Sequence[Entity], last: tuple[int, int]
) -> tuple[str, list[Entity]]:
    last_index, last_utf16 = last
    text = text[: last_index + 1]
    trimmed = [
        replace(e, length=min(e.end, last_utf16 + 1) - e.offset)
        for e in entities
        if e.offset <= last_utf16
    ]
    trimmed.sort(key=sort_key)
    first_entity = trimmed[0].offset if trimmed else len(text)
    lead = 0
    while lead < first_entity and lead < len(text) and text[lead] in " \n":
        lead += 1
    return text[lead:], [replace(e, offset=e.offset - lead) for e in trimmed]


def _merge_detected(entities: Sequence[Entity], detected: Sequence[Entity]) -> list[Entity]:
    splittable = [e for e in entities if e.type in _SPLITTABLE]
    quotes = [e for e in entities if e.type in _QUOTES]
    continuous = [e for e in entities if e.type not in _SPLITTABLE | _QUOTES]
    fresh = [e for e in _remove_crossing_quotes(detected, quotes) if _fits_between(e, continuous)]
    others = sorted(continuous + fresh + quotes, key=sort_key)
    return sorted(_resplit(splittable, others) + others, key=sort_key)


def _fits_between(entity: Entity, taken: Sequence[Entity]) -> bool:
    return all(entity.end <= other.offset or entity.offset >= other.end for other in taken)
