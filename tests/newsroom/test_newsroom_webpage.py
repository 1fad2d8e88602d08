"""Extracting articles from the HTML shapes news sites produce."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsroom.article import ArticleDraft, PollDraft, RelatedLink
from newsroom.errors import IngestError
from newsroom.webpage import extract_article


@pytest.fixture(name="seed_page")
def fixture_seed_page(fixtures_dir: Path) -> ArticleDraft:
    """The article extracted from the page built like a typical news page with a bare poll."""
    html = (fixtures_dir / "seed_shaped.html").read_text(encoding="utf-8")
    return extract_article(html, url="https://tidewater-ledger.example/p?id=88")


@pytest.fixture(name="wordpress_page")
def fixture_wordpress_page(fixtures_dir: Path) -> ArticleDraft:
    """The article extracted from the WordPress page with a WP-Polls widget."""
    html = (fixtures_dir / "wordpress_poll.html").read_text(encoding="utf-8")
    return extract_article(html, url="https://millbrook-courier.example/?p=4812")


def test_seed_shaped_page_gives_headline_standfirst_byline(seed_page: ArticleDraft) -> None:
    """The headline, the standfirst under it and the "By ..." byline are found."""
    assert seed_page.title == "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows"
    assert seed_page.standfirst is not None
    assert seed_page.standfirst.startswith("Five harbour towns have pooled their budgets")
    assert seed_page.author == "Riverside Desk"
    assert seed_page.published_at == datetime(
        2025, 6, 12, 7, 45, tzinfo=timezone(timedelta(hours=1))
    )
    assert seed_page.url == (
        "https://tidewater-ledger.example/environment/kestrel-coast-seagrass-replanting"
    )
    assert seed_page.image_url == (
        "https://tidewater-ledger.example/media/2025/06/seagrass-divers.jpg"
    )


def test_seed_shaped_page_reading_time_matches_its_label(seed_page: ArticleDraft) -> None:
    """The reading time computed from the body matches the page's own "3 min read"."""
    assert seed_page.reading_minutes == 3


def test_seed_shaped_page_gives_fact_poll_and_related(seed_page: ArticleDraft) -> None:
    """The "Did you know?" box, the question before "Total votes" and related links are found."""
    assert seed_page.fact == (
        "Seagrass meadows cover only a tiny share of the sea floor, yet they store a large part "
        "of the carbon buried in coastal sediments each year."
    )
    assert seed_page.poll == PollDraft(
        question="Should boat moorings be restricted over newly planted seagrass beds?",
        options=("Yes", "No", "Not sure"),
    )
    assert seed_page.related == (
        RelatedLink(
            title="Marram Bay Volunteers Rebuild Dune Fencing After Winter Storms",
            url="https://tidewater-ledger.example/environment/marram-bay-dune-fencing",
        ),
        RelatedLink(
            title="Oyster Reef Trial Shows Early Signs of Cleaner Water",
            url="https://tidewater-ledger.example/environment/oyster-reef-trial-results",
        ),
        RelatedLink(
            title="Harbour Fees Review Puts Small Boat Owners on Alert",
            url="https://tidewater-ledger.example/business/harbour-fees-review",
        ),
    )


def test_seed_shaped_body_is_only_the_story(seed_page: ArticleDraft) -> None:
    """The body keeps sections and paragraphs but none of the boxes, widgets or page furniture."""
    paragraphs = seed_page.paragraphs

    assert paragraphs[0].startswith("Five towns along the Kestrel Coast have agreed")
    assert "Why Seagrass Matters to the Local Economy" in paragraphs
    assert paragraphs[-1].startswith("If the early plots take root")
    for furniture in (
        "Did you know",
        "Total votes",
        "ALSO READ",
        "Related Articles",
        "Getting Data",
        "min read",
        "Riverside Desk",
        "sign in",
        "All rights reserved",
        "Volunteer divers carry",
        "Should boat moorings",
    ):
        assert furniture not in seed_page.body


def test_wordpress_page_reads_the_json_ld_graph(wordpress_page: ArticleDraft) -> None:
    """Headline, author (by @id), date, image, section and keywords come from the Yoast JSON-LD
    graph; topics are normalised, the section first."""
    assert wordpress_page.title == "Night Bus Pilot Extended Through Winter"
    assert wordpress_page.author == "Priya Nandakumar"
    assert wordpress_page.published_at == datetime(2025, 10, 3, 18, 20, tzinfo=UTC)
    assert wordpress_page.topics == ("local", "transport", "millbrook council", "nightlife")
    assert wordpress_page.standfirst == (
        "The council will keep the late-night bus running until March after riders doubled in "
        "its first month."
    )


def test_wordpress_poll_plugin_gives_question_and_options(wordpress_page: ArticleDraft) -> None:
    """The WP-Polls widget gives its question and the labels of its answers, not its buttons."""
    assert wordpress_page.poll == PollDraft(
        question="Would you use a night bus if it ran in your area?",
        options=("Yes, every week", "Now and then", "Never"),
    )


def test_wordpress_inline_fact_and_related_posts(wordpress_page: ArticleDraft) -> None:
    """An inline "Did you know?" and Jetpack related posts are found and kept out of the body."""
    assert wordpress_page.fact is not None
    assert wordpress_page.fact.startswith("The first regular night bus routes")
    assert [link.title for link in wordpress_page.related] == [
        "Station Square to get brighter lighting",
        "Hospital parking charges frozen for staff",
    ]
    for furniture in ("Did you know", "Share this", "Loading", "About time", "View Results"):
        assert furniture not in wordpress_page.body
    assert "Costs shared with the hospital trust" in wordpress_page.paragraphs


def test_json_ld_only_page_takes_its_body_from_json_ld(fixtures_dir: Path) -> None:
    """A script-rendered shell with only JSON-LD still gives the full article."""
    html = (fixtures_dir / "jsonld_only.html").read_text(encoding="utf-8")

    draft = extract_article(html, url="https://eastfield-gazette.example/n/1187")

    assert draft.title == "Allotment Waiting List Falls as Three New Sites Open"
    assert draft.url == "https://eastfield-gazette.example/news/allotment-waiting-list-falls"
    assert draft.author == "Tomasz Wójcik and Grace Adeyemi"
    assert draft.published_at == datetime(2025, 4, 22, 5, 0, tzinfo=UTC)
    assert draft.image_url == "https://eastfield-gazette.example/img/allotments-1200.jpg"
    assert len(draft.paragraphs) == 6
    assert "JavaScript" not in draft.body
    assert (draft.fact, draft.poll, draft.related) == (None, None, ())


def test_plain_page_falls_back_to_h1_and_first_paragraph(fixtures_dir: Path) -> None:
    """Without a fact, a poll or metadata, the h1 and first paragraph stand in and lists split."""
    html = (fixtures_dir / "no_fact_no_poll.html").read_bytes().decode("cp1252")

    draft = extract_article(html, url="https://westport-weekly.example/c/1")

    assert draft.title == "Harbour Swim Returns After Five-Year Break"
    assert draft.standfirst is not None
    assert draft.standfirst.startswith("The annual harbour swim is back")
    assert draft.author == "Elena Marsh"
    assert draft.published_at == datetime(2025, 8, 16, tzinfo=UTC)
    assert (draft.fact, draft.poll, draft.related) == (None, None, ())
    assert "Registration opens at 7.30am on the slipway." in draft.paragraphs
    for furniture in ("Published", "Most read", "teaser", "Westport Weekly"):
        assert furniture not in draft.body


def test_site_name_is_trimmed_from_og_title() -> None:
    """A title ending in " | Site name" loses the site name."""
    html = (
        '<html><head><meta property="og:title" content="Big News | The Daily">'
        '<meta property="og:site_name" content="The Daily"></head>'
        "<body><article><p>Some text of the story.</p></article></body></html>"
    )

    assert extract_article(html, url="https://daily.example/a").title == "Big News"


def test_question_only_widget_gets_default_options() -> None:
    """A poll widget showing only its question offers Yes / No / Not sure."""
    html = (
        "<html><body><h1>Story</h1><article><p>Text of the story.</p>"
        '<div class="poll-box"><p>Should the pier reopen?</p><span>Total votes: 12</span></div>'
        "</article></body></html>"
    )

    poll = extract_article(html, url="https://daily.example/a").poll

    assert poll == PollDraft(question="Should the pier reopen?")


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ('{"title": "json, not a page"}', "not an HTML page"),
        ("<html><body><p>Text only, no heading.</p></body></html>", "has no title"),
        ("<html><head><title>Empty</title></head><body></body></html>", "no article text"),
    ],
)
def test_unusable_pages_give_clear_errors(html: str, message: str) -> None:
    """Non-HTML, untitled and empty pages are refused with the address in the message."""
    with pytest.raises(IngestError, match=rf"^https://daily\.example/a: .*{message}"):
        extract_article(html, url="https://daily.example/a")


def test_saved_page_without_its_own_address_is_refused() -> None:
    """A page read from disk must name its address, since the card links to it."""
    html = "<html><head><title>T</title></head><body><p>Text.</p></body></html>"

    with pytest.raises(IngestError, match="names no address of its own"):
        extract_article(html, url="file:///home/editor/saved.html")


def _page_naming(head: str) -> str:
    return (
        f"<html><head>{head}</head><body><article><h1>Ferry timetable changes</h1>"
        "<p>The winter timetable starts on Monday with two fewer crossings a day.</p>"
        "<p>The last boat back from the island now leaves at half past nine.</p>"
        "</article></body></html>"
    )


@pytest.mark.parametrize(
    ("head", "fetched", "stored"),
    [
        (
            '<link rel="canonical" href="https://real-paper.example/ferry">',
            "https://copycat.example/ferry?id=3",
            "https://copycat.example/ferry?id=3",
        ),
        (
            '<meta property="og:url" content="https://real-paper.example/ferry">',
            "https://copycat.example/ferry",
            "https://copycat.example/ferry",
        ),
        (
            '<link rel="canonical" href="https://real-paper.example/ferry">'
            '<meta property="og:url" content="https://copycat.example/ferry-2">',
            "https://copycat.example/ferry?id=3",
            "https://copycat.example/ferry-2",
        ),
        (
            '<link rel="canonical" href="https://www.harbour-news.example/ferry">',
            "https://harbour-news.example/ferry?utm_source=x",
            "https://www.harbour-news.example/ferry",
        ),
        (
            '<meta property="og:url" content="https://harbour-news.example/ferry">',
            "http://www.harbour-news.example:8080/p?id=3",
            "https://harbour-news.example/ferry",
        ),
    ],
)
def test_only_an_address_on_the_pages_own_host_is_taken(
    head: str, fetched: str, stored: str
) -> None:
    """The canonical link or og:url counts only on the host the page came from (a leading www.
    aside); an address on another host is passed over, so no page can pose as another site's."""
    draft = extract_article(_page_naming(head), url=fetched)

    assert draft.url == stored
