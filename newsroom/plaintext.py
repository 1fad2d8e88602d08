"""Plain-text shapes the domain stores: one-line strings and bodies of blank-line paragraphs."""

import re
from collections.abc import Iterable

# Not whitespace to str.split(), yet as invisible: zero-width and byte-order-mark spaces.
_INVISIBLE_SPACES = str.maketrans({"\u200b": " ", "\ufeff": " "})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n")


def one_line(text: str) -> str:
    """The text with every whitespace run collapsed to one space and the ends stripped.

    Whitespace is what str.split() splits on (tabs, newlines, no-break and thin spaces: the same
    set as a regular expression's \\s), plus zero-width spaces and byte-order marks.
    """
    # split() and join() do this several times faster than a regular expression, and this runs
    # on every paragraph, sentence and tree node of every page ingested.
    if "\u200b" in text or "\ufeff" in text:
        text = text.translate(_INVISIBLE_SPACES)
    return " ".join(text.split())


def split_paragraphs(body: str) -> list[str]:
    """The non-empty paragraphs of a body, each on one line."""
    chunks = _PARAGRAPH_BREAK.split(body.replace("\r\n", "\n").replace("\r", "\n"))
    return [line for chunk in chunks if (line := one_line(chunk))]


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """A body: each paragraph on one line, empty ones dropped, blank lines between."""
    return "\n\n".join(line for paragraph in paragraphs if (line := one_line(paragraph)))
