"""What a reader sees of the HTML the bot writes, read by the emulator's Telegram HTML parser."""

from __future__ import annotations

from emulator.formatting import parse_html, to_html

# The only tags cards and poll blocks write: <b>, <i> and <tg-spoiler>, without attributes.
BOT_FORMATTING = frozenset({"bold", "italic", "spoiler"})


def plain_text(html: str) -> str:
    """The text a reader sees of ``html``, asserting its tags are known and balanced.

    Parsed as Telegram parses HTML, then rendered back by the emulator's one renderer: the same
    HTML comes back only when every tag is one the bot writes, bare and properly nested.
    """
    plain, entities = parse_html(html)
    assert {entity.type for entity in entities} <= BOT_FORMATTING
    assert to_html(plain, entities) == html
    return plain
