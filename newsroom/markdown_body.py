"""Markdown article bodies turned into plain paragraphs: markup stripped, headings kept as text.

Blocks (paragraphs, headings, list items, quotes, code fences) are found here line by line; the
inline markup inside them (emphasis, links, code spans, escapes, tags) is read by markdown-it-py
as CommonMark reads it, and only the text a reader would see is kept.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_QUOTE_MARKER = re.compile(r"^\s*(?:>\s?)+")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*(\S+).*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")

# Inline tokens that carry the words a reader sees; pictures and raw HTML tags carry none.
_TEXT_TOKENS = frozenset({"text", "text_special", "code_inline"})
_BREAK_TOKENS = frozenset({"softbreak", "hardbreak"})


class _Block(NamedTuple):
    """One paragraph's source: Markdown to read, or the lines of a code fence, kept as written."""

    source: str
    code: bool = False


@cache
def _inline_reader() -> MarkdownIt:
    """CommonMark's inline rules plus ~~strikethrough~~, with raw HTML recognised as tags."""
    # Imported here: markdown-it-py slows the bot's start-up, and only Markdown articles need it.
    from markdown_it import MarkdownIt  # noqa: PLC0415

    return MarkdownIt("commonmark", {"html": True}).enable("strikethrough")


def markdown_paragraphs(markdown: str) -> list[str]:
    """The body's paragraphs as plain text; list items and headings are paragraphs of their own."""
    blocks: list[_Block] = []
    current: list[str] = []
    in_fence: str | None = None
    # Link reference definitions ("[label]: https://..."), for links that name them anywhere.
    references: dict[str, dict[str, str]] = {}

    def flush(*, code: bool = False) -> None:
        if current:
            blocks.append(_Block("\n".join(current), code=code))
            current.clear()

    for raw in _COMMENT.sub("", markdown.replace("\r\n", "\n").replace("\r", "\n")).split("\n"):
        if fence := _FENCE.match(raw):
            marker = fence.group(1)
            if in_fence is None:
                flush()
                in_fence = marker[0]
            elif marker[0] == in_fence:
                flush(code=True)
                in_fence = None
            continue
        if in_fence is not None:
            if raw.strip():
                current.append(raw.strip())
            continue
        line = _QUOTE_MARKER.sub("", raw)
        if definition := _REFERENCE_DEFINITION.match(line):
            flush()
            label, address = definition.groups()
            # The first definition of a label wins, as in CommonMark.
            references.setdefault(_reference_key(label), {"href": address, "title": ""})
        elif (
            not line.strip()
            or _TABLE_RULE.match(line)
            # A setext underline: the paragraph just read was a heading, a paragraph of its own.
            or (current and _SETEXT_UNDERLINE.match(line))
            or _THEMATIC_BREAK.match(line)
        ):
            flush()
        elif heading := _ATX_HEADING.match(line):
            flush()
            blocks.append(_Block(heading.group(1) or ""))
        elif item := _LIST_ITEM.match(line):
            flush()
            current.append(item.group(1))
        else:
            current.append(line.strip().strip("|") if line.lstrip().startswith("|") else line)
    flush(code=in_fence is not None)
    env = {"references": references}
    return [text for block in blocks if (text := _plain_block(block, env))]


def _plain_block(block: _Block, env: dict[str, Any]) -> str:
    if block.code:
        return " ".join(block.source.split())  # code says what it says: no markup inside
    return _plain_text(block.source, env)


def plain_inline(text: str) -> str:
    """One line of Markdown with its inline markup (emphasis, links, code, tags) removed."""
    return _plain_text(text, {})


def _plain_text(markdown: str, env: dict[str, Any]) -> str:
    """The words a reader sees in inline Markdown: every token's text but pictures and tags."""
    (paragraph,) = _inline_reader().parseInline(markdown, env)
    words: list[str] = []
    for token in paragraph.children or ():
        if token.type in _TEXT_TOKENS:
            words.append(token.content)
        elif token.type in _BREAK_TOKENS:
            words.append(" ")
    return " ".join("".join(words).split())


def _reference_key(label: str) -> str:
    """A reference label as link rules look it up: case-folded, inner whitespace collapsed."""
    from markdown_it.common.utils import normalizeReference  # noqa: PLC0415 - see _inline_reader

    return normalizeReference(label)
