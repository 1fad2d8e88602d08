"""Plain text plus entities rendered back into Telegram-style HTML: the one renderer.

What a chat shows in one string (`SimMessage.html`, the web view's transcript), and what tests
assert formatting with. The inverse of the HTML parse mode: parsing what it renders gives the
same text and entities back.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from emulator.formatting.entities import Entity, sort_key

_SIMPLE_TAGS = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "spoiler": "tg-spoiler",
    "code": "code",
    "blockquote": "blockquote",
}


def _tags(entity: Entity) -> tuple[str, str] | None:
    """The opening and closing tag of an entity; None for one HTML has no tag for."""
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
    """Telegram HTML for `text` and its entities (offsets in UTF-16 units).

    Entities are opened in Telegram's order; one that only partly overlaps another is closed
    and reopened around it, so the tags always nest.
    """
    tagged = [(entity, tags) for entity in entities if (tags := _tags(entity)) is not None]
    ordered = sorted(tagged, key=lambda item: sort_key(item[0]))
    units = text.encode("utf-16-le", "surrogatepass")
    edges = sorted({0, len(units) // 2} | {p for e, _ in ordered for p in (e.offset, e.end)})
    out: list[str] = []
    stack: list[tuple[Entity, tuple[str, str]]] = []
    for left, right in itertools.pairwise(edges):
        wanted = [item for item in ordered if item[0].offset <= left < item[0].end]
        keep = 0
        while keep < min(len(stack), len(wanted)) and stack[keep] == wanted[keep]:
            keep += 1
        out.extend(closing for _, (_, closing) in reversed(stack[keep:]))
        out.extend(opening for _, (opening, _) in wanted[keep:])
        stack = wanted
        piece = units[left * 2 : right * 2].decode("utf-16-le", "surrogatepass")
        out.append(escape(piece, quote=False))
    out.extend(closing for _, (_, closing) in reversed(stack))
    return "".join(out)
