"""Tests for article cards: layout, escaping, Telegram's size limits and the keyboard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from html_support import plain_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles.card import (
    CAPTION_MAX,
    TEXT_MAX,
    Card,
    CardArticle,
    render_card,
    render_card_for_poll_update,
    visible_length,
)
from bot.telegram.callback_data import VoteTap, parse
from newsroom.poll import PollView
from newsroom.tally import Tally

HOSTILE = "<b>bold</b> &amp; </a> <i"
SENTENCE = "Councils across the region reported record turnout at the weekend. "


def buttons(card: Card) -> list[list[dict[str, Any]]]:
    """The card's keyboard as Telegram receives it."""
    keyboard: list[list[dict[str, Any]]] = card.markup.to_dict()["inline_keyboard"]
    return keyboard


@pytest.fixture(name="telegram_accepts")
def fixture_telegram_accepts() -> Callable[[str, bool], str]:
    """The emulator's check of a message text or caption: ``(html, is_caption) -> plain``."""
    content = pytest.importorskip("emulator.content")

    def accepts(html: str, is_caption: bool) -> str:
        check = content.caption_text if is_caption else content.message_text
        plain, _entities = check(html, "HTML", None)
        assert isinstance(plain, str)
        return plain

    return accepts


@pytest.fixture(name="article")
def fixture_article() -> CardArticle:
    """A short article without an image, with two key points, a fact and three related links."""
    return CardArticle(
        article_id=42,
        title="Turnout hits record high",
        url="https://news.example/turnout",
        standfirst="More people voted than ever before.",
        author="Ada Lovelace",
        reading_minutes=4,
        key_points=("Turnout reached 81%.", "Young voters led the rise."),
        fact="The first secret ballot was held in 1856.",
        image_url=None,
        related=(
            ("Who won where", "https://news.example/results"),
            ("What happens next", "https://news.example/next"),
            ("A third story", "https://news.example/third"),
        ),
    )


@pytest.fixture(name="poll")
def fixture_poll() -> PollView:
    """An open two-option poll with public results."""
    return PollView(
        poll_id=9,
        question="Did you vote?",
        options=("Yes", "No"),
        tally=Tally((3, 1)),
        closed=False,
        results_visible=True,
    )


def long_article(**changes: Any) -> CardArticle:
    """An article far beyond Telegram's limits: 300-character title, 40 long key points."""
    base = CardArticle(
        article_id=1,
        title=("Headline words " * 20).strip(),
        url="https://news.example/long",
        standfirst=SENTENCE * 4,
        author="Grace Hopper",
        reading_minutes=12,
        key_points=tuple(f"Point {i}. {SENTENCE * 2}" for i in range(40)),
        fact="Octopuses have three hearts.",
        image_url=None,
        related=(),
    )
    return replace(base, **changes)


def test_card_without_image_is_one_message_in_reading_order(
    article: CardArticle, poll: PollView
) -> None:
    """Headline, standfirst, key points, byline, fact behind a spoiler, then the poll last."""
    card = render_card(article, poll=poll)
    assert card.photo_url is None
    assert card.caption_html is None
    assert card.text_html == (
        "<b>Turnout hits record high</b>\n\n"
        "More people voted than ever before.\n\n"
        "• Turnout reached 81%.\n"
        "• Young voters led the rise.\n\n"
        "<i>By Ada Lovelace · 4 min read</i>\n\n"
        "💡 <b>Did you know?</b>\n"
        "<tg-spoiler>The first secret ballot was held in 1856.</tg-spoiler>\n\n"
        "📊 <b>Did you vote?</b>\n"
        "Yes ▰▰▰▰▰▰▰▰▱▱ 75% · 3\n"
        "No ▰▰▰▱▱▱▱▱▱▱ 25% · 1\n"
        "Total votes: 4"
    )


def test_keyboard_is_poll_then_article_then_two_related_then_share(
    article: CardArticle, poll: PollView
) -> None:
    """Poll buttons come first, then the article link, at most two related links and Share."""
    rows = buttons(render_card(article, poll=poll))
    assert [parse(row[0]["callback_data"]) for row in rows[:2]] == [VoteTap(9, 0), VoteTap(9, 1)]
    assert rows[2:] == [
        [{"text": "Read the full article", "url": "https://news.example/turnout"}],
        [{"text": "Also read: Who won where", "url": "https://news.example/results"}],
        [{"text": "Also read: What happens next", "url": "https://news.example/next"}],
        [{"text": "↗️ Share", "switch_inline_query": "a_42 Turnout hits record high"}],
    ]


def test_card_without_poll_has_link_buttons_only(article: CardArticle) -> None:
    """Without a poll there is no poll block and the keyboard starts with the article link."""
    card = render_card(article, poll=None)
    assert "📊" not in card.text_html
    assert card.text_html.endswith("</tg-spoiler>")
    assert buttons(card)[0][0]["text"] == "Read the full article"


def test_links_that_telegram_would_refuse_are_left_out(article: CardArticle) -> None:
    """Only http(s) and tg links become buttons; related links without a title are skipped."""
    odd = replace(
        article,
        url="javascript:alert(1)",
        related=(
            ("", "https://news.example/a"),
            ("Bad", "ftp://x"),
            ("Good", "http://ok.example"),
        ),
    )
    texts = [row[0]["text"] for row in buttons(render_card(odd, poll=None))]
    assert texts == ["Also read: Good", "↗️ Share"]


def test_byline_without_author_shows_reading_time_only(article: CardArticle) -> None:
    """No author gives "N min read"; a zero reading time still says one minute."""
    assert "<i>4 min read</i>" in render_card(replace(article, author=None)).text_html
    anonymous = replace(article, author="  ", reading_minutes=0)
    assert "<i>1 min read</i>" in render_card(anonymous).text_html


def test_no_fact_means_no_did_you_know(article: CardArticle) -> None:
    """An article without a fact shows no "Did you know?" line and no spoiler."""
    html = render_card(replace(article, fact=None)).text_html
    assert "Did you know?" not in html
    assert "tg-spoiler" not in html


def test_html_looking_text_in_every_field_is_escaped(poll: PollView) -> None:
    """Tags and entities in article texts reach the reader literally, in text and on buttons."""
    hostile = CardArticle(
        article_id=5,
        title=HOSTILE,
        url="https://news.example/x",
        standfirst=HOSTILE,
        author=HOSTILE,
        reading_minutes=2,
        key_points=(HOSTILE, HOSTILE),
        fact=HOSTILE,
        image_url=None,
        related=((HOSTILE, "https://news.example/y"),),
    )
    card = render_card(hostile, poll=replace(poll, question=HOSTILE, options=(HOSTILE, "No")))
    assert plain_text(card.text_html).count(HOSTILE) == 8
    labels = [row[0].get("text") for row in buttons(card)]
    assert f"{HOSTILE} · 3" in labels
    assert f"Also read: {HOSTILE}" in labels
    assert buttons(card)[-1][0]["switch_inline_query"] == f"a_5 {HOSTILE}"


def test_emulator_parses_the_card_as_the_reader_sees_it(
    telegram_accepts: Callable[[str, bool], str], poll: PollView
) -> None:
    """Telegram's HTML parsing (as emulated) accepts a hostile, emoji-laden card unchanged."""
    hostile = long_article(
        title=HOSTILE + " 🦄",
        standfirst=HOSTILE,
        author=HOSTILE,
        key_points=(HOSTILE, "👩‍👩‍👧 family"),
        fact=HOSTILE,
    )
    for article in (hostile, replace(hostile, image_url="https://img.example/a.jpg")):
        card = render_card(article, poll=replace(poll, question=HOSTILE))
        if card.caption_html is not None:
            assert telegram_accepts(card.caption_html, True) == plain_text(card.caption_html)
        plain = telegram_accepts(card.text_html, False)
        assert plain == plain_text(card.text_html)
        assert HOSTILE in plain


def test_emulator_accepts_cards_at_both_limits(
    telegram_accepts: Callable[[str, bool], str], poll: PollView
) -> None:
    """The emulator takes a shrunk 4096-limit card and a shrunk 1024-limit caption."""
    article = long_article(standfirst=SENTENCE * 40)
    for card in (render_card(article, poll=poll), render_card(replace(article, image_url="x"))):
        if card.caption_html is not None:
            assert len(telegram_accepts(card.caption_html, True)) > 900
        assert len(telegram_accepts(card.text_html, False)) > 3800


def test_long_card_keeps_first_key_points_and_fits_4096(poll: PollView) -> None:
    """40 long key points and a 300-character title are cut from the end to fit one message."""
    article = long_article()
    card = render_card(article, poll=poll)
    plain = plain_text(card.text_html)
    assert len(article.title) == 299
    assert visible_length(card.text_html) == len(plain) <= TEXT_MAX
    assert plain.startswith(article.title + "\n\n" + article.standfirst.strip())
    shown = [line for line in plain.split("\n") if line.startswith("• ")]
    assert 5 < len(shown) < 40
    assert [line[2:] for line in shown[:-1]] == [
        point.strip() for point in article.key_points[: len(shown) - 1]
    ]
    assert shown[-1].endswith("…")
    assert "By Grace Hopper · 12 min read" in plain
    assert plain.endswith("Total votes: 4")


def test_too_long_standfirst_is_shortened_once_key_points_are_gone() -> None:
    """When even no key points leave room, the standfirst is cut at a sentence or word."""
    article = long_article(standfirst=SENTENCE * 100, key_points=("Only point.",))
    plain = plain_text(render_card(article).text_html)
    assert len(plain) <= TEXT_MAX
    assert "Only point." not in plain
    standfirst = plain.split("\n\n")[1]
    assert standfirst.endswith(". …")
    assert SENTENCE.strip() in standfirst


def test_huge_headline_is_shortened_last() -> None:
    """A headline beyond the whole limit is cut with "…" once everything else has given way."""
    article = long_article(title="Word " * 2000, standfirst="Gone.", fact="Gone too.")
    plain = plain_text(render_card(article).text_html)
    assert len(plain) <= TEXT_MAX
    assert plain.startswith("Word Word")
    assert plain.split("\n\n")[0].endswith("Word…")
    assert "Gone" not in plain
    assert plain.endswith("By Grace Hopper · 12 min read")


def test_a_key_point_with_no_room_left_is_dropped_not_cut() -> None:
    """When fewer than 20 characters are left, the next key point is dropped rather than cut."""
    base = long_article(standfirst="s", key_points=("First point.",), fact=None)
    spare = TEXT_MAX - visible_length(render_card(base).text_html)
    # leave room for "\n• " plus 10 characters of a second point
    article = replace(
        base, standfirst="s" * (spare - 13 + 1), key_points=("First point.", SENTENCE)
    )
    plain = plain_text(render_card(article).text_html)
    assert len(plain) == TEXT_MAX - 13
    assert "• First point.\n\n" in plain
    assert "…" not in plain


def test_counts_beyond_the_sizing_still_fit(poll: PollView) -> None:
    """Counts wider than the layout reserves for are still fitted within 4096."""
    huge = replace(poll, tally=Tally((10**30, 10**30)))
    html = render_card(long_article(), poll=huge).text_html
    assert visible_length(html) <= TEXT_MAX
    assert plain_text(html).endswith(f"Total votes: {2 * 10**30:,}")


def test_image_card_caption_stays_within_1024(poll: PollView) -> None:
    """With an image the caption (headline, standfirst, byline) fits 1024 visible characters."""
    article = long_article(image_url="https://img.example/a.jpg", standfirst=SENTENCE * 40)
    card = render_card(article, poll=poll)
    assert card.photo_url == "https://img.example/a.jpg"
    assert card.caption_html is not None
    caption = plain_text(card.caption_html)
    assert len(caption) <= CAPTION_MAX
    headline, standfirst, byline = caption.split("\n\n")
    assert headline == article.title
    assert standfirst.endswith("…")
    assert byline == "By Grace Hopper · 12 min read"


def test_image_card_follow_up_carries_the_rest_and_the_keyboard(
    article: CardArticle, poll: PollView
) -> None:
    """The follow-up message holds key points, fact and poll; the caption holds none of them."""
    card = render_card(replace(article, image_url="https://img.example/a.jpg"), poll=poll)
    assert card.caption_html == (
        "<b>Turnout hits record high</b>\n\n"
        "More people voted than ever before.\n\n"
        "<i>By Ada Lovelace · 4 min read</i>"
    )
    assert card.text_html.startswith("• Turnout reached 81%.\n• Young voters led the rise.\n\n💡")
    assert card.text_html.endswith("Total votes: 4")
    assert parse(buttons(card)[0][0]["callback_data"]) == VoteTap(9, 0)


def test_image_card_with_nothing_else_follows_up_with_the_headline(article: CardArticle) -> None:
    """An image card without key points, fact or poll still sends text to hold the keyboard."""
    bare = replace(article, image_url="https://img.example/a.jpg", key_points=(), fact=None)
    assert render_card(bare).text_html == "<b>Turnout hits record high</b>"


def test_astral_emoji_count_as_one_character_each() -> None:
    """Emoji outside the BMP count once, so a card that fits in code points is not shortened."""
    points = tuple("🦄" * 300 for _ in range(12))  # 3,600 code points, 7,200 UTF-16 units
    card = render_card(long_article(title="Emoji", standfirst="", key_points=points, fact=None))
    assert plain_text(card.text_html).count("🦄") == 3600
    assert visible_length(card.text_html) <= TEXT_MAX


def test_cut_emoji_sequences_stay_whole() -> None:
    """A key point of family emoji cut to fit never ends in half a sequence."""
    family = "👩\u200d👩\u200d👧"
    points = (family * 2000,)
    card = render_card(long_article(title="Families", standfirst="", key_points=points, fact=None))
    bullet = next(line for line in plain_text(card.text_html).split("\n") if line.startswith("•"))
    assert bullet.endswith(family + "…")
    assert visible_length(card.text_html) <= TEXT_MAX


def test_keyboard_stays_within_telegrams_button_limits(poll: PollView) -> None:
    """A ten-option poll with many related links stays under 100 buttons and 8 per row."""
    ten = replace(poll, options=tuple(f"Option {i}" for i in range(10)), tally=Tally((1,) * 10))
    related = tuple((f"Story {i}", f"https://news.example/{i}") for i in range(20))
    rows = buttons(render_card(long_article(related=related), poll=ten))
    assert sum(len(row) for row in rows) == 10 + 1 + 2 + 1
    assert all(len(row) <= 8 for row in rows)


def test_poll_update_renders_the_message_that_carries_the_poll(
    article: CardArticle, poll: PollView
) -> None:
    """The update is the whole card without an image and the follow-up message with one."""
    for variant in (article, replace(article, image_url="https://img.example/a.jpg")):
        card = render_card(variant, poll=poll)
        update = render_card_for_poll_update(variant, poll=poll)
        assert update.text_html == card.text_html
        assert update.markup == card.markup


def test_poll_update_fingerprint_changes_only_when_the_poll_does(
    article: CardArticle, poll: PollView
) -> None:
    """Equal views fingerprint equally; one more vote gives a different fingerprint."""
    same = render_card_for_poll_update(article, poll=replace(poll, tally=Tally((3, 1))))
    assert render_card_for_poll_update(article, poll=poll).fingerprint == same.fingerprint
    voted = render_card_for_poll_update(article, poll=replace(poll, tally=Tally((3, 2))))
    assert voted.fingerprint != same.fingerprint


def test_key_points_stay_put_as_votes_come_in(poll: PollView) -> None:
    """A card at the limit keeps the same key points whether the poll has 4 or 4 billion votes."""
    article = long_article()
    before = render_card(article, poll=poll).text_html
    after = render_card(article, poll=replace(poll, tally=Tally((3 * 10**9, 10**9)))).text_html
    assert before.split("📊")[0] == after.split("📊")[0]
    assert visible_length(after) <= TEXT_MAX


def test_visible_length_counts_what_the_reader_sees() -> None:
    """Tags count nothing and an entity counts as the one character it stands for."""
    assert visible_length("<b>a &amp; b</b>\n<tg-spoiler>&lt;</tg-spoiler>") == 7


field_text = st.text(max_size=6000) | st.text(alphabet="ab. <>&;🦄\u200d\n", max_size=6000)


articles = st.builds(
    CardArticle,
    article_id=st.just(1),
    title=field_text,
    url=st.just("https://news.example/a"),
    standfirst=field_text,
    author=st.none() | field_text,
    reading_minutes=st.integers(min_value=-1, max_value=500),
    key_points=st.lists(field_text, max_size=40).map(tuple),
    fact=st.none() | field_text,
    image_url=st.none() | st.just("https://img.example/a.jpg"),
    related=st.just(()),
)
polls = st.lists(st.text(min_size=1, max_size=500), min_size=1, max_size=10).flatmap(
    lambda options: st.builds(
        PollView,
        poll_id=st.just(1),
        question=st.text(min_size=1, max_size=1000),
        options=st.just(tuple(options)),
        tally=st.just(Tally(tuple(range(len(options))))),
        closed=st.booleans(),
        results_visible=st.booleans(),
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles, poll=polls)
def test_any_article_renders_within_limits_and_well_formed(
    article: CardArticle, poll: PollView
) -> None:
    """Whatever the texts, caption and message fit their limits and their HTML is well formed."""
    card = render_card(article, poll=poll)
    plain = plain_text(card.text_html)
    assert 1 <= len(plain) <= TEXT_MAX
    if card.caption_html is not None:
        assert len(plain_text(card.caption_html)) <= CAPTION_MAX
    assert f"Total votes: {poll.tally.total:,}" in plain


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(article=articles, poll=polls)
def test_emulator_accepts_any_card(
    telegram_accepts: Callable[[str, bool], str], article: CardArticle, poll: PollView
) -> None:
    """Whatever the texts, the emulated Telegram accepts the caption and the message as sent."""
    card = render_card(article, poll=poll)
    if card.caption_html is not None:
        telegram_accepts(card.caption_html, True)
    assert f"Total votes: {poll.tally.total:,}" in telegram_accepts(card.text_html, False)
