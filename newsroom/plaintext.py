"""Plain-text shapes: one-line strings, bodies of blank-line paragraphs, and text cut to a length.

:func:`shorten` is the one way reader-facing text is cut to a length (at a sentence, a word, never
inside an emoji); :func:`tidy` puts a text on one line the way Telegram shows it.
"""

import re
import unicodedata
from collections.abc import Iterable

# Not whitespace to str.split(), yet as invisible: zero-width and byte-order-mark spaces.
_INVISIBLE_SPACES = str.maketrans({"\u200b": " ", "\ufeff": " "})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n")
ELLIPSIS = "…"
_SENTENCE_ENDS = ".!?…"
_CLOSERS = "\"')]\u201d\u2019\u00bb"  # closing quotes and brackets after a full stop
_ZWJ = "\u200d"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


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


def tidy(text: str) -> str:
    """``text`` on one line: runs of whitespace and control characters become one space."""
    # Telegram shows control characters as spaces; treating them so keeps lengths honest
    return " ".join(_CONTROL.sub(" ", text).split())


def _extends_previous(char: str) -> bool:
    """Whether ``char`` belongs to the character before it (accents, emoji modifiers, joiners)."""
    code = ord(char)
    return (
        unicodedata.category(char) in {"Mn", "Me", "Mc"}
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (text vs emoji style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters of subdivision flags
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _hard_cut(text: str, length: int) -> str:
    """The first ``length`` code points at most, backing off so no emoji or accent is split."""
    end = length
    while end > 0 and (_extends_previous(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    # flags are pairs of regional indicators; an odd run before the cut means one is split
    run = 0
    while run < end and _is_regional_indicator(text[end - 1 - run]):
        run += 1
    if run % 2 == 1 and end < len(text) and _is_regional_indicator(text[end]):
        end -= 1
    return text[:end]


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` code points, else a shorter version ending in "…".

    Cuts after the last whole sentence that fits, else at the last word boundary, else inside a
    word (never inside an emoji sequence), preferring a boundary only when it keeps at least half.
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS if limit == 1 else ""
    room = limit - 1  # the ellipsis takes one
    floor = limit // 2
    for end in range(limit - 2, floor - 1, -1):
        # a sentence ends in punctuation (maybe closing quotes) followed by a space
        if text[end].isspace() and text[:end].rstrip(_CLOSERS)[-1:] in tuple(_SENTENCE_ENDS):
            return text[:end] + " " + ELLIPSIS
    for end in range(room, floor - 1, -1):
        if text[end].isspace():
            cut = text[:end].rstrip().rstrip(",;:-\u2013\u2014").rstrip()
            if len(cut) >= floor:
                return cut + ELLIPSIS
            break
    return _hard_cut(text, room).rstrip() + ELLIPSIS
