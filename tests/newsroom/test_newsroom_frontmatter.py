"""Markdown articles with YAML front matter: the examples, Markdown stripping, bad files."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsroom.article import PollDraft, RelatedLink
from newsroom.errors import IngestError
from newsroom.frontmatter import parse_markdown_article

EXAMPLES = Path(__file__).parents[2] / "examples" / "articles"


def article(front: str, body: str = "Some body text that says enough to be read.") -> str:
    """A Markdown article from front matter lines and a body."""
    return f"---\n{front}\n---\n{body}\n"


def test_examples_ship_at_least_three_articles() -> None:
    """The examples folder holds at least three articles that all parse."""
    paths = sorted(EXAMPLES.glob("*.md"))

    drafts = [parse_markdown_article(p.read_text(encoding="utf-8"), source=str(p)) for p in paths]

    assert len(drafts) >= 3
    assert all(draft.title and draft.body for draft in drafts)


def test_seed_shaped_example_has_sections_fact_poll_and_related() -> None:
    """The ferry example carries sections, a fact, a poll and related links like a news page."""
    path = EXAMPLES / "kestrel-coast-night-ferry.md"

    draft = parse_markdown_article(path.read_text(encoding="utf-8"), source=str(path))

    assert draft.title == "Kestrel Coast Night Ferry to Run All Year After Summer Trial"
    assert "Why the Councils Changed Course" in draft.paragraphs
    assert draft.fact is not None
    assert draft.fact.startswith("Many of the world's oldest ferry crossings")
    assert draft.poll == PollDraft(
        question="Would a year-round night ferry change how you travel along the coast?",
        options=("Yes", "No", "Not sure"),
    )
    assert [link.title for link in draft.related] == [
        "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows",
        "Harbour Fees Review Puts Small Boat Owners on Alert",
    ]
    assert draft.published_at == datetime(2025, 9, 18, 8, 30, tzinfo=timezone(timedelta(hours=1)))
    assert draft.topics == ("transport", "kestrel coast", "ferries")
    assert len(draft.key_points) == 3
    assert not draft.summary_given


def test_markdown_syntax_is_stripped_and_headings_kept() -> None:
    """Emphasis, links, images and list markers go; headings and items become paragraphs."""
    body = (
        "# Title\n\nA **bold** and _quiet_ [link](https://x.example/a) to `code`.\n\n"
        "## Section Two\n\n- first item\n- second *item*\n\n![photo](p.jpg)\n\n> A quote\n"
    )

    draft = parse_markdown_article(
        article("title: Title\nurl: https://x.example/", body), source="s"
    )

    assert draft.paragraphs == (
        "A bold and quiet link to code.",
        "Section Two",
        "first item",
        "second item",
        "A quote",
    )


def test_given_key_points_are_used_as_they_are() -> None:
    """A key_points list in the front matter replaces the computed summary."""
    front = "title: T\nurl: https://x.example/\nkey_points: [First point., Second point.]"

    draft = parse_markdown_article(article(front), source="s")

    assert draft.key_points == ("First point.", "Second point.")
    assert draft.summary_given


def test_summary_text_is_split_into_key_points() -> None:
    """A summary written as text becomes one key point per sentence."""
    front = "title: T\nurl: https://x.example/\nsummary: Dr. Vale spoke. The plan passed."

    draft = parse_markdown_article(article(front), source="s")

    assert draft.key_points == ("Dr. Vale spoke.", "The plan passed.")


def test_yes_and_no_options_stay_text() -> None:
    """Poll options written Yes / No / On / Off stay words rather than turning into booleans."""
    front = (
        "title: T\nurl: https://x.example/\n"
        "poll: {question: 'Agree?', options: [Yes, No, On, Off]}"
    )

    draft = parse_markdown_article(article(front), source="s")

    assert draft.poll is not None
    assert draft.poll.options == ("Yes", "No", "On", "Off")


def test_date_without_zone_is_read_as_utc() -> None:
    """A bare date in the front matter means midnight UTC."""
    draft = parse_markdown_article(
        article("title: T\nurl: https://x.example/\npublished: 2025-11-08"), source="s"
    )

    assert draft.published_at == datetime(2025, 11, 8, tzinfo=UTC)


def test_related_entries_become_links() -> None:
    """Related entries become links with canonical addresses."""
    front = "title: T\nurl: https://x.example/\nrelated:\n  - {title: Next, url: 'https://x.example/n#c'}"

    draft = parse_markdown_article(article(front), source="s")

    assert draft.related == (RelatedLink(title="Next", url="https://x.example/n"),)


def test_broken_yaml_names_the_file_and_line(fixtures_dir: Path) -> None:
    """Broken YAML gives an error naming the file and where the problem is."""
    text = (fixtures_dir / "broken_yaml.md").read_text(encoding="utf-8")

    with pytest.raises(IngestError, match=r"^broken_yaml\.md: the front matter is not valid YAML"):
        parse_markdown_article(text, source="broken_yaml.md")


def test_missing_title_is_refused(fixtures_dir: Path) -> None:
    """Front matter without a title is refused."""
    text = (fixtures_dir / "no_title.md").read_text(encoding="utf-8")

    with pytest.raises(IngestError, match=r"^no_title\.md: the front matter has no title$"):
        parse_markdown_article(text, source="no_title.md")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just a body.", "no YAML front matter"),
        (article("- a\n- b"), "must be a mapping"),
        (article("title: T"), "has no url"),
        (
            article("title: T\nurl: https://x.example/\nstandfrist: oops"),
            "unknown front matter key",
        ),
        (article("title: T\nurl: /relative"), "no absolute http\\(s\\) address"),
        (article("title: T\nurl: https://x.example/\npublished: last tuesday"), "not a date"),
        (
            article("title: T\nurl: https://x.example/\npoll: {question: 'Q?', options: [A]}"),
            "2 to 10",
        ),
        (article("title: T\nurl: https://x.example/\npoll: Q?"), "'poll' must be a mapping"),
        (article("title: T\nurl: https://x.example/\nrelated: [{title: X}]"), "needs both"),
        (article("title: [A, B]\nurl: https://x.example/"), "'title' must be text"),
    ],
)
def test_bad_front_matter_gives_a_clear_error(text: str, message: str) -> None:
    """Each kind of bad front matter gives an IngestError saying what is wrong."""
    with pytest.raises(IngestError, match=message):
        parse_markdown_article(text, source="bad.md")
