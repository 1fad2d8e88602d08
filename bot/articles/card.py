"""Article cards in Telegram HTML, always within Telegram's size limits.

A card is the headline, standfirst, key points, byline, a "Did you know?" fact behind a spoiler,
the line a correction left ("Updated 14:05: ...") and the poll, with link buttons underneath.
Without an image it is one message; with one it is a photo whose caption holds the headline,
standfirst and byline, followed by a message with the rest and the keyboard. Too long a card
loses key points from the end first (the last one kept is cut at a sentence or word), then
standfirst, fact and headline are shortened. Text is cut before it is escaped, so a cut never
lands inside a tag or an entity.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape, unescape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.polls.view import poll_buttons, render_poll_html, view_fingerprint
from bot.telegram.deeplinks import article_payload
from newsroom.plaintext import shorten, tidy
from newsroom.poll import PollView
from newsroom.tally import Tally

TEXT_MAX = 4096  # sendMessage / editMessageText, counted after entity parsing
CAPTION_MAX = 1024  # sendPhoto caption, counted after entity parsing
AUTHOR_MAX = 64  # a byline is one line; a runaway author field must not eat the card
LINK_LABEL_MAX = 64
SHARE_QUERY_MAX = 64
RELATED_MAX = 2
FOLLOW_UP_TITLE_MAX = 300
CORRECTION_MAX = 300  # the "Updated HH:MM: note" line, whatever the admin typed
PARTIAL_POINT_MIN = 20  # a cut text shorter than this says too little to keep
# the widest vote counts a poll block is sized for, so key points stay put as votes come in
SIZING_VOTES = 10**12

_TAG = re.compile(r"<[^>]*>")
# the URLs Telegram takes on a button: http(s) with a host, or tg://; no whitespace anywhere
_BUTTON_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?|tg://[A-Za-z_]\S*", re.IGNORECASE)


@dataclass(frozen=True)
class CardArticle:
    """The article fields a card shows; ``related`` holds (title, url) pairs."""

    article_id: int
    title: str
    url: str
    standfirst: str
    author: str | None
    reading_minutes: int
    key_points: tuple[str, ...]
    fact: str | None
    image_url: str | None
    related: tuple[tuple[str, str], ...]
    # How many corrections the article had when this card was made, and the last one's line.
    revision: int = 0
    correction: str | None = None


@dataclass(frozen=True)
class Card:
    """A rendered card: a photo with ``caption_html`` (if any), then ``text_html`` and keyboard."""

    photo_url: str | None
    caption_html: str | None
    text_html: str
    markup: InlineKeyboardMarkup


@dataclass(frozen=True)
class PollMessageContent:
    """The text and keyboard of the card message that carries the poll, as an edit would send."""

    text_html: str
    markup: InlineKeyboardMarkup

    @functools.cached_property
    def fingerprint(self) -> str:
        """Equal fingerprints mean an edit would change nothing (computed once per content:
        live totals compare it against every copy of the poll on every round)."""
        return view_fingerprint(self.text_html, self.markup)


@dataclass(frozen=True)
class _Parts:
    """The card's plain-text fields (already tidied) and the poll block, before escaping."""

    title: str
    standfirst: str
    byline: str
    key_points: tuple[str, ...]
    fact: str
    poll_html: str
    correction: str = ""


Layout = Callable[[_Parts], str]


def visible_length(html: str) -> int:
    """Characters a reader sees of ``html`` as this module emits it (no tags, entities read)."""
    return len(unescape(_TAG.sub("", html)))


def _esc(text: str) -> str:
    return escape(text, quote=False)


def _join(*sections: str) -> str:
    return "\n\n".join(section for section in sections if section)


def _headline(parts: _Parts) -> str:
    return f"<b>{_esc(parts.title)}</b>" if parts.title else ""


def _points(parts: _Parts) -> str:
    return "\n".join(f"• {_esc(point)}" for point in parts.key_points)


def _fact(parts: _Parts) -> str:
    if not parts.fact:
        return ""
    return f"💡 <b>Did you know?</b>\n<tg-spoiler>{_esc(parts.fact)}</tg-spoiler>"


def _correction(parts: _Parts) -> str:
    return f"✏️ <i>{_esc(parts.correction)}</i>" if parts.correction else ""


def _whole_card(parts: _Parts) -> str:
    return _join(
        _headline(parts),
        _esc(parts.standfirst),
        _points(parts),
        f"<i>{_esc(parts.byline)}</i>",
        _fact(parts),
        _correction(parts),
        parts.poll_html,
    )


def _caption(parts: _Parts) -> str:
    return _join(_headline(parts), _esc(parts.standfirst), f"<i>{_esc(parts.byline)}</i>")


def _follow_up(parts: _Parts) -> str:
    return _join(_points(parts), _fact(parts), _correction(parts), parts.poll_html)


def _fits(layout: Layout, parts: _Parts, limit: int) -> bool:
    return visible_length(layout(parts)) <= limit


def _room(layout: Layout, limit: int, with_placeholder: Callable[[str], _Parts]) -> int:
    """How many characters one field may have: escaping never changes what a reader sees."""
    return limit - (visible_length(layout(with_placeholder("x"))) - 1)


def _fit_key_points(layout: Layout, parts: _Parts, limit: int) -> _Parts:
    points = parts.key_points
    # binary search for the most leading points that fit: fewer points never make a card longer
    kept, too_many = 0, len(points) + 1
    while too_many - kept > 1:
        middle = (kept + too_many) // 2
        if _fits(layout, replace(parts, key_points=points[:middle]), limit):
            kept = middle
        else:
            too_many = middle
    fitted = replace(parts, key_points=points[:kept])
    if kept == len(points):
        return fitted
    room = _room(layout, limit, lambda s: replace(fitted, key_points=(*points[:kept], s)))
    if room < PARTIAL_POINT_MIN:
        return fitted
    return replace(fitted, key_points=(*points[:kept], shorten(points[kept], room)))


# shortened in this order once key points alone are not enough: (read, write) per field
_SHRINKABLE: tuple[tuple[Callable[[_Parts], str], Callable[[_Parts, str], _Parts]], ...] = (
    (lambda p: p.standfirst, lambda p, text: replace(p, standfirst=text)),
    (lambda p: p.fact, lambda p, text: replace(p, fact=text)),
    (lambda p: p.title, lambda p, text: replace(p, title=text)),
)


def _field_room(
    layout: Layout, limit: int, parts: _Parts, write: Callable[[_Parts, str], _Parts]
) -> int:
    return _room(layout, limit, lambda text: write(parts, text))


def _fit(layout: Layout, parts: _Parts, limit: int) -> _Parts:
    """``parts`` shrunk until ``layout`` of them is at most ``limit`` visible characters."""
    if _fits(layout, parts, limit):
        return parts
    parts = _fit_key_points(layout, parts, limit)
    for read, write in _SHRINKABLE:
        if _fits(layout, parts, limit):
            break
        room = _field_room(layout, limit, parts, write)
        # a field cut to a stub says nothing; drop it instead
        parts = write(parts, shorten(read(parts), room) if room >= PARTIAL_POINT_MIN else "")
    return parts


def _byline(article: CardArticle) -> str:
    minutes = f"{max(article.reading_minutes, 1)} min read"
    author = shorten(tidy(article.author or ""), AUTHOR_MAX)
    return f"By {author} · {minutes}" if author else minutes


def _sizing_poll_html(poll: PollView) -> str:
    """The poll block at its widest: closed, results shown, huge equal counts (2-digit shares)."""
    widest = Tally(tuple(SIZING_VOTES for _ in poll.options))
    return render_poll_html(replace(poll, tally=widest, closed=True, results_visible=True))


def _is_link(url: str) -> bool:
    return _BUTTON_URL.fullmatch(url) is not None


def _link_rows(article: CardArticle) -> list[list[InlineKeyboardButton]]:
    rows: list[list[InlineKeyboardButton]] = []
    url = article.url.strip()
    if _is_link(url):
        rows.append([InlineKeyboardButton("Read the full article", url=url)])
    related = [
        (tidy(title), link.strip())
        for title, link in article.related
        if tidy(title) and _is_link(link.strip())
    ]
    prefix = "Also read: "
    rows += [
        [InlineKeyboardButton(prefix + shorten(title, LINK_LABEL_MAX - len(prefix)), url=link)]
        for title, link in related[:RELATED_MAX]
    ]
    rows.append([InlineKeyboardButton("↗️ Share", switch_inline_query=share_query(article))])
    return rows


def share_query(article: CardArticle) -> str:
    """What Share types after "@bot " in the chat the reader picks: "a_<id> <headline>".

    The id finds exactly this article (a shortened headline may end mid-word); the headline
    shows the reader what they are sharing, and still finds it by its words if they drop the id.
    """
    return f"{article_payload(article.article_id)} {shorten(tidy(article.title), SHARE_QUERY_MAX)}"


def _fitted_html(layout: Layout, parts: _Parts, poll: PollView | None, limit: int) -> str:
    """``layout`` within ``limit``, fitted against the widest poll block when there is a poll."""
    if poll is None:
        return layout(_fit(layout, parts, limit))
    sized = _fit(layout, replace(parts, poll_html=_sizing_poll_html(poll)), limit)
    html = layout(replace(sized, poll_html=parts.poll_html))
    if visible_length(html) <= limit:
        return html
    # only counts beyond SIZING_VOTES get here: fit against the poll as it is
    return layout(_fit(layout, parts, limit))


def render_card(article: CardArticle, *, poll: PollView | None = None) -> Card:
    """The card for ``article`` with ``poll`` (if any) last, within Telegram's limits."""
    parts = _Parts(
        title=tidy(article.title),
        standfirst=tidy(article.standfirst),
        byline=_byline(article),
        key_points=tuple(point for point in map(tidy, article.key_points) if point),
        fact=tidy(article.fact or ""),
        poll_html=render_poll_html(poll) if poll is not None else "",
        correction=shorten(tidy(article.correction or ""), CORRECTION_MAX),
    )
    rows = (poll_buttons(poll) if poll is not None else []) + _link_rows(article)
    markup = InlineKeyboardMarkup(rows)
    if article.image_url is None:
        text = _fitted_html(_whole_card, parts, poll, TEXT_MAX)
        return Card(photo_url=None, caption_html=None, text_html=text, markup=markup)
    caption = _caption(_fit(_caption, parts, CAPTION_MAX))
    text = _fitted_html(_follow_up, parts, poll, TEXT_MAX)
    if not text or not (parts.key_points or parts.fact or parts.poll_html):
        # a message needs text; the headline tells which article the buttons below belong to
        headline = _headline(replace(parts, title=shorten(parts.title, FOLLOW_UP_TITLE_MAX)))
        text = _join(headline or "Read the full article", _correction(parts))
    return Card(photo_url=article.image_url, caption_html=caption, text_html=text, markup=markup)


def render_card_for_poll_update(article: CardArticle, *, poll: PollView) -> PollMessageContent:
    """The card message that carries ``poll`` (the whole card, or the image card's follow-up)."""
    card = render_card(article, poll=poll)
    return PollMessageContent(text_html=card.text_html, markup=card.markup)
