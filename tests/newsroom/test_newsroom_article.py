"""The article value: what it accepts, how it tidies input and what it refuses."""

from datetime import UTC, datetime

import pytest

from newsroom.article import DEFAULT_POLL_OPTIONS, ArticleDraft, PollDraft, RelatedLink
from newsroom.errors import IngestError

URL = "https://news.example/story"


def test_strings_are_stripped_and_empty_optionals_become_none() -> None:
    """Surrounding and repeated whitespace goes; blank optional text reads as absent."""
    draft = ArticleDraft(title="  A  headline \n", url=URL, standfirst="   ", author=" Jo  Lee ")

    assert draft.title == "A headline"
    assert draft.standfirst is None
    assert draft.author == "Jo Lee"


def test_address_is_canonical() -> None:
    """The address loses its fragment, trackers, default port and upper-case host."""
    draft = ArticleDraft(title="T", url="HTTPS://News.Example:443/story?id=3&utm_source=x#top")

    assert draft.url == "https://news.example/story?id=3"


def test_body_is_normalised_into_paragraphs() -> None:
    """Paragraphs are kept one per block, lines inside them joined, blank runs collapsed."""
    draft = ArticleDraft(title="T", url=URL, body="First line\ncontinues.\n\n\n \nSecond.")

    assert draft.paragraphs == ("First line continues.", "Second.")


@pytest.mark.parametrize("title", ["", "   "])
def test_title_is_required(title: str) -> None:
    """An article without a title is refused with a message naming the address."""
    with pytest.raises(IngestError, match=r"https://news.example/story has no title"):
        ArticleDraft(title=title, url=URL)


@pytest.mark.parametrize("url", ["", "/relative/path", "ftp://news.example/a", "news.example/a"])
def test_address_must_be_absolute_http(url: str) -> None:
    """Relative and non-web addresses are refused."""
    with pytest.raises(IngestError, match="no absolute http\\(s\\) address"):
        ArticleDraft(title="T", url=url)


def test_publication_time_needs_a_zone() -> None:
    """A naive publication time is refused, so times never drift between servers."""
    with pytest.raises(IngestError, match="has no time zone"):
        ArticleDraft(title="T", url=URL, published_at=datetime(2025, 1, 1))  # noqa: DTZ001


def test_poll_defaults_to_yes_no_not_sure() -> None:
    """A poll given only a question offers Yes / No / Not sure."""
    assert (
        PollDraft(question="Agree?").options == DEFAULT_POLL_OPTIONS == ("Yes", "No", "Not sure")
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("Only",), "has 1 options; it needs 2 to 10"),
        (tuple(f"Option {n}" for n in range(11)), "has 11 options; it needs 2 to 10"),
        (("Yes", "  "), "option 2 of the poll 'Agree\\?' is empty"),
        (("Yes", "yes "), "lists the option 'yes' twice"),
    ],
)
def test_poll_options_are_checked(options: tuple[str, ...], message: str) -> None:
    """Polls need 2-10 options, none empty, none repeated (ignoring case)."""
    with pytest.raises(IngestError, match=message):
        PollDraft(question="Agree?", options=options)


def test_poll_question_over_telegram_limit_is_refused() -> None:
    """A question longer than Telegram's 300 characters is refused."""
    with pytest.raises(IngestError, match="at most 300 fit"):
        PollDraft(question="Why " * 80 + "?")


def test_poll_closing_time_needs_a_zone() -> None:
    """A naive closing time is refused."""
    with pytest.raises(IngestError, match="poll closing time"):
        PollDraft(question="Agree?", closes_at=datetime(2025, 1, 1))  # noqa: DTZ001


def test_related_links_are_checked_and_deduplicated() -> None:
    """Related links need a title and a web address; the same address is kept once."""
    first = RelatedLink(title="One", url="https://news.example/one#x")
    again = RelatedLink(title="One again", url="https://news.example/one")
    draft = ArticleDraft(title="T", url=URL, related=(first, again))

    assert draft.related == (RelatedLink(title="One", url="https://news.example/one"),)
    with pytest.raises(IngestError, match="related link"):
        RelatedLink(title="Bad", url="javascript:alert(1)")
    with pytest.raises(IngestError, match="has no title"):
        RelatedLink(title=" ", url="https://news.example/two")


def test_topics_are_unique_and_normalised() -> None:
    """Topics are case folded with whitespace collapsed, and repeated or blank ones dropped."""
    draft = ArticleDraft(
        title="T", url=URL, topics=(" Transport", "transport", "", "Ferries", "World \t News")
    )

    assert draft.topics == ("transport", "ferries", "world news")


def test_reading_time_is_at_least_one_minute() -> None:
    """A reading time below one minute is refused."""
    with pytest.raises(IngestError, match="reading time under one minute"):
        ArticleDraft(title="T", url=URL, reading_minutes=0)


def test_draft_is_frozen() -> None:
    """A draft cannot be changed after it is made."""
    draft = ArticleDraft(title="T", url=URL, published_at=datetime(2025, 1, 1, tzinfo=UTC))

    with pytest.raises(AttributeError):
        draft.title = "Other"  # type: ignore[misc]
