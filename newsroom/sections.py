"""Section names as the bot compares them: one normaliser for article topics and readers' choices.

An article's topics (front matter, JSON-LD, feed categories) and the sections a chat follows are
both stored through :func:`section_name`, so "World  News" from a feed and "world news" from a
reader's button are the same section.
"""

from collections.abc import Iterable

from newsroom.plaintext import one_line


def section_name(text: str) -> str:
    """The section as stored: case folded, whitespace collapsed to single spaces ("" if blank)."""
    return one_line(text).casefold()


def section_names(texts: Iterable[str]) -> tuple[str, ...]:
    """Each distinct non-blank section of ``texts``, normalised, in first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        if name := section_name(text):
            seen.setdefault(name, None)
    return tuple(seen)
