"""Plain-text shapes the domain stores: one-line strings and bodies of blank-line paragraphs."""

import re
from collections.abc import Iterable

# \s covers tabs, newlines and the no-break and thin spaces publishers paste from word processors.
_WHITESPACE = re.compile(r"[\s\u200b\ufeff]+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n")


def one_line(text: str) -> str:
    """The text with every whitespace run collapsed to one space and the ends stripped."""
    return _WHITESPACE.sub(" ", text).strip()


def split_paragraphs(body: str) -> list[str]:
    """The non-empty paragraphs of a body, each on one line."""
    chunks = _PARAGRAPH_BREAK.split(body.replace("\r\n", "\n").replace("\r", "\n"))
    return [line for chunk in chunks if (line := one_line(chunk))]


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """A body: each paragraph on one line, empty ones dropped, blank lines between."""
    return "\n\n".join(line for paragraph in paragraphs if (line := one_line(paragraph)))
