"""Tests for what readers see of a poll: the HTML block, the buttons, the toast, fingerprints."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from html_support import plain_text
from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup

from bot.polls.view import (
    BUTTON_LABEL_MAX,
    TOAST_MAX,
    poll_buttons,
    render_poll_html,
    toast_for_results,
    view_fingerprint,
)
from bot.telegram.callback_data import ClosedPollTap, VoteTap, parse
from emulator.formatting import parse_text
from newsroom.poll import PollView
from newsroom.tally import Tally

HOSTILE = "<b>bold</b> &amp; </a> <i"


@pytest.fixture(name="telegram_parse")
def fixture_telegram_parse() -> Callable[[str], Any]:
    """The emulator's Telegram HTML parser: ``html -> (plain, entities)``."""
    return lambda html: parse_text(html, "HTML", None)


@pytest.fixture(name="open_poll")
def fixture_open_poll() -> PollView:
    """A running poll with public results and four-digit counts."""
    return PollView(
        poll_id=100,
        question="Should the city ban cars from the centre?",
        options=("Yes", "No", "Only at weekends"),
        tally=Tally((1234, 56, 7)),
        closed=False,
        results_visible=True,
    )


def test_open_poll_shows_bars_percentages_counts_and_total(open_poll: PollView) -> None:
    """Each option line shows its bar, percentage and count, then the total with separators."""
    assert render_poll_html(open_poll) == (
        "📊 <b>Should the city ban cars from the centre?</b>\n"
        "Yes ▰▰▰▰▰▰▰▰▰▰ 95% · 1,234\n"
        "No ▱▱▱▱▱▱▱▱▱▱ 4% · 56\n"
        "Only at weekends ▱▱▱▱▱▱▱▱▱▱ 1% · 7\n"
        "Total votes: 1,297"
    )


def test_hidden_results_show_options_and_total_only(open_poll: PollView) -> None:
    """Until the poll closes, hidden results leave only question, options and the total."""
    hidden = render_poll_html(replace(open_poll, results_visible=False))
    assert hidden == (
        "📊 <b>Should the city ban cars from the centre?</b>\n"
        "▫️ Yes\n"
        "▫️ No\n"
        "▫️ Only at weekends\n"
        "Total votes: 1,297"
    )
    assert "%" not in hidden
    assert "▰" not in hidden


def test_hidden_results_buttons_carry_no_counts(open_poll: PollView) -> None:
    """Buttons of a poll with hidden results show the option text only."""
    rows = poll_buttons(replace(open_poll, results_visible=False))
    assert [[button.text for button in row] for row in rows] == [
        ["Yes"],
        ["No"],
        ["Only at weekends"],
    ]


def test_closed_poll_shows_final_results_even_when_they_were_hidden(open_poll: PollView) -> None:
    """A closed poll publishes its final results and says it is closed."""
    closed = replace(open_poll, closed=True, results_visible=False)
    html = render_poll_html(closed)
    assert "Yes ▰▰▰▰▰▰▰▰▰▰ 95% · 1,234" in html
    assert html.endswith("Total votes: 1,297\n🔒 <i>Poll closed</i>")


def test_closed_poll_keyboard_is_one_polite_closed_button(open_poll: PollView) -> None:
    """A closed poll's keyboard is a single "Poll closed" button whose data names the poll."""
    rows = poll_buttons(replace(open_poll, closed=True))
    assert len(rows) == 1
    assert len(rows[0]) == 1
    button = rows[0][0]
    assert button.text == "🔒 Poll closed"
    assert isinstance(button.callback_data, str)
    assert parse(button.callback_data) == ClosedPollTap(poll_id=100)


def test_open_poll_buttons_vote_for_their_option_and_show_counts(open_poll: PollView) -> None:
    """One button per row, labelled with the option and its count, voting for that position."""
    rows = poll_buttons(open_poll)
    assert [[button.text for button in row] for row in rows] == [
        ["Yes · 1,234"],
        ["No · 56"],
        ["Only at weekends · 7"],
    ]
    taps = [parse(str(row[0].callback_data)) for row in rows]
    assert taps == [VoteTap(100, 0), VoteTap(100, 1), VoteTap(100, 2)]


def test_long_option_labels_are_shortened_to_fit_with_their_count() -> None:
    """A long option is cut on a word with "…" so label and count fit the button."""
    view = PollView(
        poll_id=1,
        question="Q?",
        options=("A remarkably long option that goes on and on about everything at once", "B"),
        tally=Tally((1_000_000, 0)),
        closed=False,
        results_visible=True,
    )
    label = poll_buttons(view)[0][0].text
    assert len(label) <= BUTTON_LABEL_MAX
    assert label.endswith("… · 1,000,000")
    assert label.startswith("A remarkably long option")


def test_blank_texts_get_stand_in_names() -> None:
    """A blank question or option still renders, as Telegram refuses empty buttons."""
    view = PollView(2, " ", ("\n", "Yes"), Tally((0, 0)), closed=False, results_visible=False)
    assert render_poll_html(view) == "📊 <b>Poll</b>\n▫️ Option 1\n▫️ Yes\nTotal votes: 0"
    assert [row[0].text for row in poll_buttons(view)] == ["Option 1", "Yes"]


def test_every_text_is_html_escaped() -> None:
    """Question and options that look like HTML reach the reader literally."""
    view = PollView(7, HOSTILE, (HOSTILE, "ok"), Tally((1, 0)), closed=False, results_visible=True)
    html = render_poll_html(view)
    assert plain_text(html).count(HOSTILE) == 2
    assert poll_buttons(view)[0][0].text == HOSTILE + " · 1"


def test_emulator_reads_the_poll_block_as_the_reader_sees_it(
    telegram_parse: Callable[[str], Any],
) -> None:
    """Telegram's HTML parsing (as emulated) accepts the block and shows the raw texts."""
    view = PollView(
        7, HOSTILE, (HOSTILE, "🦄 ok"), Tally((3, 1)), closed=True, results_visible=True
    )
    plain, _entities = telegram_parse(render_poll_html(view))
    assert plain == plain_text(render_poll_html(view))
    assert plain.count(HOSTILE) == 2


@given(counts=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=10))
def test_shown_percentages_always_add_up_to_100(counts: list[int]) -> None:
    """The percentages printed in the message add up to 100 once anyone has voted."""
    view = PollView(
        1,
        "Q",
        tuple(f"option {i}" for i in range(len(counts))),
        Tally(tuple(counts)),
        closed=False,
        results_visible=True,
    )
    shown = [int(p) for p in re.findall(r" (\d+)% · ", render_poll_html(view))]
    assert len(shown) == len(counts)
    assert sum(shown) == (100 if sum(counts) else 0)


def test_toast_gives_totals_and_each_option() -> None:
    """The after-vote toast tells the reader the current percentages, counts and total."""
    view = PollView(3, "Q", ("Yes", "No"), Tally((3, 1)), closed=False, results_visible=False)
    assert toast_for_results(view) == "Results so far · 4 votes\nYes: 75% (3)\nNo: 25% (1)"


@given(
    options=st.lists(st.text(min_size=1, max_size=120), min_size=1, max_size=10),
    scale=st.integers(min_value=0, max_value=10**12),
)
def test_toast_always_fits_200_characters(options: list[str], scale: int) -> None:
    """However many, long or emoji-laden the options and large the counts, the toast fits."""
    counts = tuple(scale + i for i in range(len(options)))
    view = PollView(3, "Q", tuple(options), Tally(counts), closed=False, results_visible=False)
    toast = toast_for_results(view)
    assert len(toast) <= TOAST_MAX
    lines = toast.split("\n")
    assert len(lines) == len(options) + 1
    assert all(re.search(r": \d{1,3}%( \([\d,]+\))?$", line) for line in lines[1:])


def test_toast_shortens_long_option_names_first() -> None:
    """With ten long options the names are shortened and every percentage still shows."""
    options = tuple(f"Option number {i} with a very long description indeed" for i in range(10))
    view = PollView(3, "Q", options, Tally(tuple(range(10))), closed=False, results_visible=False)
    toast = toast_for_results(view)
    assert len(toast) <= TOAST_MAX
    assert toast.startswith("Results so far · 45 votes\n")
    assert "…: 20% (9)" in toast


def _fingerprint(view: PollView) -> str:
    return view_fingerprint(render_poll_html(view), InlineKeyboardMarkup(poll_buttons(view)))


def test_fingerprints_are_equal_for_equal_views(open_poll: PollView) -> None:
    """Rendering the same view twice gives the same fingerprint: no needless edit."""
    twin = replace(open_poll, tally=Tally((1234, 56, 7)))
    assert _fingerprint(open_poll) == _fingerprint(twin)


def test_fingerprint_changes_when_a_count_changes(open_poll: PollView) -> None:
    """One more vote changes the fingerprint, so the message gets edited."""
    assert _fingerprint(open_poll) != _fingerprint(replace(open_poll, tally=Tally((1234, 57, 7))))


def test_fingerprint_changes_with_the_keyboard_alone(open_poll: PollView) -> None:
    """A hidden-results poll's text stays put but its keyboard still counts for the fingerprint."""
    hidden = replace(open_poll, results_visible=False)
    text = render_poll_html(hidden)
    with_buttons = view_fingerprint(text, InlineKeyboardMarkup(poll_buttons(hidden)))
    assert with_buttons != view_fingerprint(text, None)
    assert len(with_buttons) == 64
    assert re.fullmatch(r"[0-9a-f]{64}", with_buttons)


def test_poll_view_refuses_a_tally_that_does_not_match_its_options() -> None:
    """A view with a count per option only: mismatches and empty polls are refused."""
    with pytest.raises(ValueError, match="one count per option"):
        PollView(1, "Q", ("a", "b"), Tally((1,)), closed=False, results_visible=True)
    with pytest.raises(ValueError, match="options"):
        PollView(1, "Q", (), Tally(()), closed=False, results_visible=True)
