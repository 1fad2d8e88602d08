"""Markdown bodies as plain paragraphs: inline markup read as CommonMark reads it, no text lost."""

import pytest

from newsroom.frontmatter import parse_markdown_article
from newsroom.markdown_body import markdown_paragraphs


@pytest.mark.parametrize(
    ("markdown", "paragraph"),
    [
        pytest.param(
            "**The **new** timetable** starts on Monday.",
            "The new timetable starts on Monday.",
            id="strong-inside-strong",
        ),
        pytest.param(
            "*Fares on the `**` routes* rise in May.",
            "Fares on the ** routes rise in May.",
            id="code-inside-emphasis",
        ),
        pytest.param(
            "Read [the history](https://wiki.example/Gull_Point_(harbour_(1904))) first.",
            "Read the history first.",
            id="link-address-with-nested-parentheses",
        ),
        pytest.param(
            "The council published [the [draft] plan](https://news.example/plan).",
            "The council published the [draft] plan.",
            id="link-text-with-brackets",
        ),
        pytest.param(
            "[![Map](map.png)](https://news.example/map) The route of the night ferry.",
            "The route of the night ferry.",
            id="picture-as-a-link",
        ),
        pytest.param(
            "Search the timetable for `*night*` or `**late**` sailings.",
            "Search the timetable for *night* or **late** sailings.",
            id="code-span-with-asterisks",
        ),
        pytest.param(
            "Mark headlines with the `<b>` tag, never `[text](url)`.",
            "Mark headlines with the <b> tag, never [text](url).",
            id="code-span-with-markup",
        ),
        pytest.param(
            "Letters go to <letters@news.example> by Friday.",
            "Letters go to letters@news.example by Friday.",
            id="email-autolink",
        ),
        pytest.param(
            "The timetable is at <https://news.example/*night*-ferry>.",
            "The timetable is at https://news.example/*night*-ferry.",
            id="autolink-with-asterisks",
        ),
        pytest.param(
            r"A return costs \$5 \(about 10\% less\) and a \"night\" ticket \&amp; more.",
            'A return costs $5 (about 10% less) and a "night" ticket &amp; more.',
            id="escaped-punctuation",
        ),
        pytest.param(
            "The crossing takes an hour\\\nin calm weather.",
            "The crossing takes an hour in calm weather.",
            id="backslash-line-break",
        ),
        pytest.param(
            "See [the report].\n\n[the report]: https://news.example/report",
            "See the report.",
            id="shortcut-reference-link",
        ),
        pytest.param(
            "Tap the \ue02a icon to book.",
            "Tap the \ue02a icon to book.",
            id="private-use-character",
        ),
    ],
)
def test_inline_markup_goes_and_the_text_stays(markdown: str, paragraph: str) -> None:
    """Each paragraph reads as a Markdown preview shows it: markup gone, every word kept."""
    assert markdown_paragraphs(markdown) == [paragraph]


def test_code_fence_is_kept_as_written() -> None:
    """A fenced code sample keeps its tags, asterisks and escapes; it is a paragraph of its own."""
    body = (
        'Embed the map with:\n\n```html\n<iframe src="https://news.example/map"></iframe>\n'
        "**Map** &amp; \\*key\\*\n```\n\nThat is all."
    )

    assert markdown_paragraphs(body) == [
        "Embed the map with:",
        '<iframe src="https://news.example/map"></iframe> **Map** &amp; \\*key\\*',
        "That is all.",
    ]


def test_link_to_an_undefined_reference_stays_as_written() -> None:
    """Brackets naming no reference definition are plain text, as a Markdown preview shows them."""
    assert markdown_paragraphs("Fares rise [citation][needed] in May.") == [
        "Fares rise [citation][needed] in May."
    ]


def test_front_matter_text_keeps_an_email_autolink() -> None:
    """A title's autolinked address stays in the title instead of vanishing as if it were a tag."""
    text = "---\ntitle: Write to <letters@news.example>\nurl: https://news.example/a\n---\nBody.\n"

    draft = parse_markdown_article(text, source="letters.md")

    assert draft.title == "Write to letters@news.example"
