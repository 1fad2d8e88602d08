"""Tests for vote tallies: totals, percentages, bars and count formatting."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsroom.tally import Tally, bar, format_count

counts_strategy = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=10)


@given(counts=counts_strategy)
def test_percentages_sum_to_100_whenever_there_are_votes(counts: list[int]) -> None:
    """Shown percentages add up to exactly 100 as soon as one vote is cast, else are all zero."""
    shares = Tally(tuple(counts)).percentages()
    assert len(shares) == len(counts)
    assert sum(shares) == (100 if sum(counts) else 0)


@given(counts=counts_strategy)
def test_each_percentage_is_within_one_point_of_the_exact_share(counts: list[int]) -> None:
    """Largest remainder never moves an option more than one point away from its exact share."""
    tally = Tally(tuple(counts))
    for count, shown in zip(counts, tally.percentages(), strict=True):
        exact = Fraction(count * 100, tally.total) if tally.total else Fraction(0)
        assert abs(shown - exact) < 1


def test_no_votes_give_all_zero_percentages() -> None:
    """A poll nobody answered shows 0% everywhere rather than dividing by zero."""
    assert Tally((0, 0, 0)).percentages() == (0, 0, 0)


def test_largest_remainders_get_the_missing_points() -> None:
    """The points lost to rounding down go to the options with the largest remainders."""
    assert Tally((1, 2)).percentages() == (33, 67)
    assert Tally((2, 3, 5, 7)).percentages() == (12, 18, 29, 41)


def test_equal_remainders_favour_earlier_options() -> None:
    """When remainders tie, the extra point goes to the option listed first."""
    assert Tally((1, 1, 1)).percentages() == (34, 33, 33)
    assert Tally((0, 1, 1, 1)).percentages() == (0, 34, 33, 33)
    assert Tally((1,) * 6).percentages() == (17, 17, 17, 17, 16, 16)


def test_total_adds_up_all_votes() -> None:
    """The total is the sum of the votes of every option."""
    assert Tally((3, 0, 1_000_000)).total == 1_000_003


@pytest.mark.parametrize("counts", [(-1, 2), (True, 1), (1.0, 2)])
def test_tally_rejects_counts_that_are_not_vote_numbers(counts: tuple[int, ...]) -> None:
    """Negative, boolean or fractional counts are a caller's bug, refused at construction."""
    with pytest.raises(ValueError, match="non-negative integers"):
        Tally(counts)


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.0, "▱▱▱▱▱▱▱▱▱▱"),
        (0.04, "▱▱▱▱▱▱▱▱▱▱"),
        (0.05, "▰▱▱▱▱▱▱▱▱▱"),
        (0.25, "▰▰▰▱▱▱▱▱▱▱"),
        (0.35, "▰▰▰▰▱▱▱▱▱▱"),
        (0.3, "▰▰▰▱▱▱▱▱▱▱"),
        (0.94, "▰▰▰▰▰▰▰▰▰▱"),
        (0.95, "▰▰▰▰▰▰▰▰▰▰"),
        (1.0, "▰▰▰▰▰▰▰▰▰▰"),
    ],
)
def test_bar_fills_the_rounded_share_of_ten_cells(share: float, expected: str) -> None:
    """A bar shows the share rounded half up to whole cells out of ten."""
    assert bar(share) == expected


@given(
    share=st.floats(allow_nan=True, allow_infinity=True),
    width=st.integers(min_value=0, max_value=40),
)
def test_bar_always_has_exactly_width_cells(share: float, width: int) -> None:
    """Whatever the share (even out of range), the bar is exactly ``width`` cells of ▰ then ▱."""
    drawn = bar(share, width)
    assert len(drawn) == width
    assert drawn == "▰" * drawn.count("▰") + "▱" * drawn.count("▱")


def test_bar_clamps_out_of_range_shares() -> None:
    """Shares below 0 (or not a number) draw an empty bar and above 1 a full one."""
    assert bar(-0.5, 4) == "▱▱▱▱"
    assert bar(float("nan"), 4) == "▱▱▱▱"
    assert bar(1.7, 4) == "▰▰▰▰"


def test_bar_refuses_a_negative_width() -> None:
    """A negative width is a caller's bug."""
    with pytest.raises(ValueError, match="width"):
        bar(0.5, -1)


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0"), (999, "999"), (1000, "1,000"), (1234, "1,234"), (1_234_567, "1,234,567")],
)
def test_format_count_separates_thousands(count: int, shown: str) -> None:
    """Counts are shown with a comma between groups of three digits."""
    assert format_count(count) == shown
