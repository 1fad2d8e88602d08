"""Plain text plus entities rendered back into Telegram-style HTML, for asserting formatting."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from emulator.markup import Entity

_SIMPLE_TAGS = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "spoiler": "tg-spoiler",
    "code": "code",
    "blockquote": "blockquote",
}


def _open_tag(entity: Entity) -> tuple[str, str] | None:
    tag = _SIMPLE_TAGS.get(entity.type)
    if tag is not None:
        return f"<{tag}>", f"</{tag}>"
    tags: dict[str, tuple[str, str]] = {
        "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
        "pre": (
            (f'<pre><code class="language-{escape(entity.language)}">', "</code></pre>")
            if entity.language
            else ("<pre>", "</pre>")
        ),
        "text_link": (f'<a href="{escape(entity.url or "")}">', "</a>"),
        "text_mention": (f'<a href="tg://user?id={entity.user_id}">', "</a>"),
        "custom_emoji": (
            f'<tg-emoji emoji-id="{escape(entity.custom_emoji_id or "")}">',
            "</tg-emoji>",
        ),
    }
    # mention, hashtag, url, bot_command ...: Telegram shows them, HTML has no tag for them.
    return tags.get(entity.type)


def to_html(text: str, entities: Sequence[Entity]) -> str:
    """Render `text` with its entities (offsets in UTF-16 units) as HTML."""
    tagged = [(entity, tags) for entity in entities if (tags := _open_tag(entity)) is not None]
    if not tagged:
        return escape(text, quote=False)
    # Outer entities first: earlier start, then longer span.
    tagged.sort(key=lambda item: (item[0].offset, -item[0].length))
    out: list[str] = []
    open_stack: list[tuple[int, str]] = []
    next_index = 0
    position = 0

    def close_until(limit: int) -> None:
        while open_stack and open_stack[-1][0] <= limit:
            out.append(open_stack.pop()[1])

    for char in text:
        close_until(position)
        while next_index < len(tagged) and tagged[next_index][0].offset <= position:
            entity, (opening, closing) = tagged[next_index]
            out.append(opening)
            open_stack.append((entity.offset + entity.length, closing))
            next_index += 1
        out.append(escape(char, quote=False))
        position += 2 if ord(char) > 0xFFFF else 1
    close_until(position)
    while open_stack:
        out.append(open_stack.pop()[1])
    return "".join(out)
