"""Markdown article bodies turned into plain paragraphs: markup stripped, headings kept as text."""

import html
import re

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_QUOTE_MARKER = re.compile(r"^\s*(?:>\s?)+")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+.*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")

# Backslash escapes are swapped for private-use characters so later rules cannot reread them.
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
_PRIVATE_BASE = 0xE000
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_INLINE_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_CODE = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STAR_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
# Underscores inside words (snake_case, file_names) are not emphasis in Markdown.
_UNDERSCORE_EMPHASIS = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")


def markdown_paragraphs(markdown: str) -> list[str]:
    """The body's paragraphs as plain text; list items and headings are paragraphs of their own."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence: str | None = None

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in _COMMENT.sub("", markdown.replace("\r\n", "\n").replace("\r", "\n")).split("\n"):
        if fence := _FENCE.match(raw):
            marker = fence.group(1)
            if in_fence is None:
                flush()
                in_fence = marker[0]
            elif marker[0] == in_fence:
                flush()
                in_fence = None
            continue
        if in_fence is not None:
            if raw.strip():
                current.append(raw.strip())
            continue
        line = _QUOTE_MARKER.sub("", raw)
        if not line.strip() or _REFERENCE_DEFINITION.match(line) or _TABLE_RULE.match(line):
            flush()
        elif current and _SETEXT_UNDERLINE.match(line):
            flush()  # the paragraph just read was a heading; it stays a paragraph of its own
        elif _THEMATIC_BREAK.match(line):
            flush()
        elif heading := _ATX_HEADING.match(line):
            flush()
            blocks.append(heading.group(1) or "")
        elif item := _LIST_ITEM.match(line):
            flush()
            current.append(item.group(1))
        else:
            current.append(line.strip().strip("|") if line.lstrip().startswith("|") else line)
    flush()
    return [text for block in blocks if (text := plain_inline(block))]


def plain_inline(text: str) -> str:
    """One line of Markdown with its inline markup (emphasis, links, code, tags) removed."""
    escaped = _ESCAPE.sub(lambda match: chr(_PRIVATE_BASE + ord(match.group(1))), text)
    for pattern, replacement in (
        (_IMAGE, ""),
        (_INLINE_LINK, r"\1"),
        (_REFERENCE_LINK, r"\1"),
        (_AUTOLINK, r"\1"),
        (_HTML_TAG, ""),
        (_CODE, r"\2"),
        (_STRONG, r"\2"),
        (_STAR_EMPHASIS, r"\1"),
        (_UNDERSCORE_EMPHASIS, r"\1"),
        (_STRIKE, r"\1"),
    ):
        escaped = pattern.sub(replacement, escaped)
    restored = "".join(
        chr(ord(char) - _PRIVATE_BASE)
        if _PRIVATE_BASE <= ord(char) < _PRIVATE_BASE + 128
        else char
        for char in escaped
    )
    return " ".join(html.unescape(restored).split())
