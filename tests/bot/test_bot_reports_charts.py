"""Tests for what an editor gets of an article's engagement: the charts, the caption, the CSV."""

from __future__ import annotations

import csv
import io
import itertools
import struct
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reports_support import tram_depot_engagement, unread_engagement

from bot.reports import charts
from bot.reports.export import PRIVATE_CHATS, engagement_csv
from bot.reports.reaction_names import emoji_name
from newsroom.engagement import (
    ArticleSummary,
    PerChat,
    ReactionCount,
    ReactionKind,
    SubscriberDay,
)

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which must come first."""
    assert png.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def parse_csv(document: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.decode("utf-8-sig"), newline="")))


def section(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    return [row for row in rows if row["section"] == name]


def week() -> list[ArticleSummary]:
    return [
        ArticleSummary(1, "Town council votes on the depot", 1240, 312, 116, 23),
        ArticleSummary(2, "Library extends Sunday hours", 980, 150, 60, 8),
        ArticleSummary(3, "Cycle lane on Harbour Road opens", 1500, 420, 200, 51),
    ]


def month() -> list[SubscriberDay]:
    start = datetime(2025, 5, 1, tzinfo=UTC)
    return [
        SubscriberDay(start + timedelta(days=n), {"private": 800 + 12 * n, "group": 60 + n})
        for n in range(40)
    ]


def test_every_chart_is_a_1280_by_720_png() -> None:
    """Each chart an editor gets is a PNG of 1280x720 pixels: legible on a phone, within limits."""
    engagement = tram_depot_engagement()
    pngs = [
        charts.article_chart(engagement),
        charts.week_chart(week()),
        charts.subscribers_chart(month()),
        charts.poll_results_chart(
            engagement.question or "", engagement.options, engagement.option_counts
        ),
    ]
    for png in pngs:
        assert png is not None
        assert png_size(png) == (charts.WIDTH_PX, charts.HEIGHT_PX)


def test_nothing_to_plot_gives_no_chart_and_the_caption_says_so() -> None:
    """No votes and no reactions yet: no image, and the caption says there is nothing to plot."""
    engagement = unread_engagement()
    assert charts.article_chart(engagement) is None
    assert charts.caption(engagement).splitlines()[-1] == charts.NOTHING_TO_PLOT
    assert charts.NOTHING_TO_PLOT not in charts.caption(tram_depot_engagement())
    assert charts.week_chart([]) is None
    assert charts.week_chart([ArticleSummary(1, "Quiet", 0, 0, 0, 0)]) is None
    assert charts.subscribers_chart([]) is None
    assert charts.poll_results_chart("Did you read it?", ["Yes", "No"], [0, 0]) is None


def test_an_article_without_a_poll_charts_its_copies_and_reactions() -> None:
    """Reactions alone are worth a chart; the caption says the article has no poll."""
    engagement = replace(
        tram_depot_engagement(), question=None, options=(), option_counts=(), voters=0,
        vote_times=(),
    )  # fmt: skip
    png = charts.article_chart(engagement)
    assert png is not None
    assert png_size(png) == (1280, 720)
    assert "No poll on this article" in charts.caption(engagement).splitlines()


def test_caption_numbers_match_the_values() -> None:
    """The caption: reach by chat type, failures, votes per 100 deliveries, reactions, the rest."""
    assert charts.caption(tram_depot_engagement()) == "\n".join(
        [
            "📊 Town council votes to turn the old tram depot into a night market",
            "Reached 1,240 chats: private 1,100 · group 92 · supergroup 38 · channel 10",
            "Failed 13 · blocked 5",
            "Voters 312 · 25.2 votes per 100 deliveries",
            "Reactions 116: 👍 48 · ❤ 31 · 🔥 17 · 😁 9 · 🤔 6 · custom emoji 3 · paid stars 2",
            "Shares 23 · opens 41 · autocards 5 · clicks 187",
        ]
    )


def test_caption_leaves_out_clicks_when_links_are_not_tracked() -> None:
    """Without link tracking there is no click count to show, not a misleading zero."""
    lines = charts.caption(replace(tram_depot_engagement(), clicks=None)).splitlines()
    assert lines[-1] == "Shares 23 · opens 41 · autocards 5"


def test_caption_stays_within_telegrams_limit() -> None:
    """A long headline and eighty kinds of reaction fit in 1,024 characters, the rest counted."""
    faces = [chr(code) for code in range(0x1F600, 0x1F650)]
    engagement = replace(
        tram_depot_engagement(),
        title="Headline " * 200,
        reactions=tuple(
            ReactionCount(ReactionKind.EMOJI, face, 1000 + n) for n, face in enumerate(faces)
        ),
    )
    text = charts.caption(engagement)
    assert len(text) <= charts.CAPTION_MAX
    lines = text.splitlines()
    assert len(lines[0]) <= 2 + 120
    assert lines[0].endswith("…")
    head, _, listed = lines[4].partition(": ")
    assert head == f"Reactions {sum(1000 + n for n in range(80)):,}"
    *items, more = listed.split(" · ")
    assert items[:2] == ["🙏 1,079", "🙎 1,078"]  # the most frequent first
    assert more == f"+{80 - len(items)} more"
    assert lines[-1] == "Shares 23 · opens 41 · autocards 5 · clicks 187"


def test_headlines_are_drawn_as_written() -> None:
    """Dollar signs are not mathematics, and characters the font lacks are left out, not boxes.

    matplotlib would parse "$...$" as mathematics (and fail on this one) and warn about each
    missing glyph; the suite turns warnings into errors.
    """
    engagement = replace(
        tram_depot_engagement(),
        title="Rents up $\\frac{ 12% 🚋 in 🏙 the $ centre",
        question="Pay $5 or $\\sqrt{10} 🤷?",
        reactions=(
            ReactionCount(ReactionKind.EMOJI, "🤷\u200d♀", 5),
            ReactionCount(ReactionKind.EMOJI, "🫠", 3),
            ReactionCount(ReactionKind.CUSTOM, "5368324170671202286", 2),
        ),
    )
    png = charts.article_chart(engagement)
    assert png is not None
    assert png_size(png) == (1280, 720)
    results = charts.poll_results_chart("Tax $\\frac{ 🚋?", ["$a$", "🤷"], [3, 1])
    assert results is not None
    assert png_size(results) == (1280, 720)


def test_reactions_carry_names_a_reader_knows() -> None:
    """Chart labels name each reaction, since the chart's font draws only a few emoji."""
    assert emoji_name("👍") == "thumbs up"
    assert emoji_name("❤\ufe0f") == "heart"
    assert emoji_name("🤷\u200d♀") == "shrug (woman)"
    assert emoji_name("🫠") == "melting face"  # not Telegram's: Unicode's own name
    assert emoji_name("🏳\ufe0f\u200d🌈") == "waving white flag…"


def test_csv_parses_back_into_the_same_counts() -> None:
    """Options, reach, chats, votes per hour and reactions come back as the numbers they were."""
    engagement = tram_depot_engagement()
    document = engagement_csv(engagement)
    assert document.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    assert b"\r\n" in document
    rows = parse_csv(document)
    assert section(rows, "article") == [
        {
            "section": "article",
            "label": engagement.title,
            "chat_type": "",
            "reaction_kind": "",
            "votes": "312",
            "percent": "",
            "reactions": "116",
            "sent": "1240",
            "failed": "13",
            "blocked": "5",
        }
    ]
    assert [(r["chat_type"], int(r["sent"]), int(r["failed"]), int(r["blocked"]))
            for r in section(rows, "reach")] == [
        (row.chat_kind, row.sent, row.failed, row.blocked) for row in engagement.reach
    ]  # fmt: skip
    options = section(rows, "option")
    assert [(r["label"], int(r["votes"])) for r in options] == list(
        zip(engagement.options, engagement.option_counts, strict=True)
    )
    assert [int(r["percent"]) for r in options] == [42, 33, 17, 8]
    assert [(r["label"], r["chat_type"], int(r["votes"]), int(r["reactions"]))
            for r in section(rows, "chat")] == [
        ("Riverside neighbours", "group", 40, 12),
        ("Harbour Road traders", "supergroup", 25, 0),
        ("City Desk", "channel", 0, 30),
        (PRIVATE_CHATS, "private", 2, 1),
    ]  # fmt: skip
    hours = section(rows, "hour")
    assert sum(int(r["votes"]) for r in hours) == len(engagement.vote_times)
    first = min(engagement.vote_times).replace(minute=0, second=0, microsecond=0)
    assert hours[0]["label"] == first.strftime("%Y-%m-%d %H:%M")
    stamps = [datetime.strptime(r["label"] + "Z", "%Y-%m-%d %H:%M%z") for r in hours]
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(stamps))
    assert [(r["label"], r["reaction_kind"], int(r["reactions"]))
            for r in section(rows, "reaction")] == [
        (r.key, r.kind.value, r.count) for r in engagement.reactions
    ]  # fmt: skip


def test_csv_never_names_a_private_chat() -> None:
    """A private chat's title is its reader's name: private chats are one row, without names."""
    document = engagement_csv(tram_depot_engagement()).decode("utf-8-sig")
    assert "Ada Lovelace" not in document
    assert "Grace Hopper" not in document


def test_csv_hours_are_shown_in_the_bots_zone() -> None:
    """Votes per hour are labelled in the zone the editor works in; naive times are UTC."""
    engagement = replace(
        unread_engagement(),
        option_counts=(2, 1),
        vote_times=(
            datetime(2025, 5, 14, 8, 10),  # noqa: DTZ001 - as the database hands it back
            datetime(2025, 5, 14, 8, 50, tzinfo=UTC),
            datetime(2025, 5, 14, 10, 5, tzinfo=UTC),
        ),
    )
    rows = section(parse_csv(engagement_csv(engagement, zone=ZoneInfo("Europe/Berlin"))), "hour")
    assert [(r["label"], r["votes"]) for r in rows] == [
        ("2025-05-14 10:00", "2"),
        ("2025-05-14 11:00", "0"),
        ("2025-05-14 12:00", "1"),
    ]


@pytest.mark.parametrize(
    "title",
    [
        'Harbour, "Old Town" & Co',
        "Line one\nline two, with a comma\r\nand a CRLF",
        '"",,""\n',
    ],
)
def test_csv_chat_titles_round_trip(title: str) -> None:
    """Commas, quotes and line breaks in a chat's title come back exactly (RFC 4180 quoting)."""
    engagement = replace(
        tram_depot_engagement(), per_chat=(PerChat(title, "group", votes=3, reactions=1),)
    )
    chats = section(parse_csv(engagement_csv(engagement)), "chat")
    assert [(r["label"], r["votes"], r["reactions"]) for r in chats] == [(title, "3", "1")]


def test_csv_cells_never_run_as_formulas() -> None:
    """A group named "=HYPERLINK(...)" is shown as text in a spreadsheet, not run."""
    engagement = replace(
        tram_depot_engagement(),
        options=("=1+1", "-2", "@SUM(A1)", "+cmd"),
        per_chat=(PerChat('=HYPERLINK("http://example.org","x")', "group", 1, 0),),
    )
    rows = parse_csv(engagement_csv(engagement))
    assert [r["label"] for r in section(rows, "option")] == ["'=1+1", "'-2", "'@SUM(A1)", "'+cmd"]
    assert section(rows, "chat")[0]["label"] == '\'=HYPERLINK("http://example.org","x")'


def test_importing_the_bot_does_not_import_matplotlib() -> None:
    """Start-up does not pay for the plotting library: it loads only when a chart is drawn."""
    code = (
        "import sys, bot.app, bot.reports.charts, bot.reports.export;"
        " print('matplotlib' in sys.modules)"
    )
    # the test's own interpreter running a fixed string: no untrusted input
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "False", "")


def test_docs_show_a_report_chart() -> None:
    """The README's screenshot of a /report chart is there, at the size the bot sends."""
    assert png_size((ROOT / "docs" / "report-chart.png").read_bytes()) == (1280, 720)


def test_article_chart_takes_times_as_the_database_gives_them() -> None:
    """Naive UTC times and an unknown publication time still chart, from the first event."""
    engagement = tram_depot_engagement()
    png = charts.article_chart(
        replace(
            engagement,
            published_at=None,
            vote_times=tuple(t.replace(tzinfo=None) for t in engagement.vote_times),
            delivery_times=tuple(t.replace(tzinfo=None) for t in engagement.delivery_times),
        )
    )
    assert png is not None
    assert png_size(png) == (1280, 720)
