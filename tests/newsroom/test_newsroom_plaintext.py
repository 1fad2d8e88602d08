"""Tests for plain-text shapes: text shortened to a length and put on one line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsroom.plaintext import shorten, tidy


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short enough.", 20, "Short enough."),
        ("Rates rose in May. Then they fell sharply again in June.", 30, "Rates rose in May. …"),
        (
            "Rates rose in May, then they fell sharply again in June.",
            30,
            "Rates rose in May, then they…",
        ),
        ("Rates rose, then fell sharply again in June.", 12, "Rates rose…"),
        ("Supercalifragilistic", 8, "Superca…"),
        ("Hi ---- -----------", 12, "Hi ---- ---…"),  # the only word break keeps too little
        ("🇺🇦🇺🇦🇺🇦🇺🇦", 4, "🇺🇦…"),
        ("👍🏽👍🏽👍🏽", 4, "👍🏽…"),
        ("anything", 1, "…"),
        ("anything", 0, ""),
    ],
)
def test_shorten_cuts_at_sentence_then_word_then_whole_emoji(
    text: str, limit: int, expected: str
) -> None:
    """Shortening prefers whole sentences, then whole words, and never splits an emoji."""
    assert shorten(text, limit) == expected


@given(text=st.text(max_size=300), limit=st.integers(min_value=0, max_value=320))
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    """A shortened text always fits, and text that fits is left alone."""
    shortened = shorten(text, limit)
    assert len(shortened) <= limit
    if len(text) <= limit:
        assert shortened == text


def test_tidy_puts_text_on_one_line_with_control_characters_as_spaces() -> None:
    """Newlines, tabs and control characters count as spaces, as Telegram shows them."""
    assert tidy("  Rates\n\trose\x00in\x1fMay \x7f ") == "Rates rose in May"
