"""What a digest says: a header, then each article's headline (a deep link that opens its full
card with the live poll) and one line of its standfirst, split cleanly between articles into as
many messages as Telegram's limits need.

Each message stays within 4096 characters as Telegram counts them after parsing the HTML, and
within the 100 entities Telegram shows (the bold header and one link per article).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from bot.articles.card import TEXT_MAX, visible_length
from bot.telegram.deeplinks import article_payload
from newsroom.plaintext import shorten, tidy
from storage.digests import DigestArticle

HEADLINE_MAX = 200
STANDFIRST_MAX = 160
# Telegram shows at most 100 entities a message: the header's bold, then one link per article.
ENTITIES_MAX = 100
ARTICLES_PER_MESSAGE_MAX = ENTITIES_MAX - 1
# Room kept in every header for a part count, whatever the number of parts.
_PART_COUNT_ROOM = len(" (999/999)")
_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class DigestMessage:
    """One message of a digest, as HTML, and as plain text for the one retry without markup."""

    html: str
    plain: str


def digest_title(period: str) -> str:
    """The header's words for a period key: "2026-12-03" (daily) or "2026-W49" (weekly)."""
    if "-W" in period:
        year, week = period.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return f"Your weekly digest · week of {monday.day} {monday:%B %Y}"
    day = date.fromisoformat(period)
    return f"Your daily digest · {day:%A} {day.day} {day:%B %Y}"


def article_link(bot_username: str, article_id: int) -> str:
    """The deep link that opens the article's full card, with its live poll, in the bot."""
    return f"https://t.me/{bot_username}?start={article_payload(article_id)}"


@dataclass(frozen=True)
class _Item:
    html: str
    plain: str

    @property
    def length(self) -> int:
        # The plain retry writes the link out, so whichever is longer must fit.
        return max(visible_length(self.html), len(self.plain))


def _item(article: DigestArticle, bot_username: str) -> _Item:
    headline = shorten(tidy(article.title), HEADLINE_MAX) or f"Article {article.id}"
    standfirst = shorten(tidy(article.standfirst or ""), STANDFIRST_MAX)
    link = article_link(bot_username, article.id)
    html = f'<a href="{escape(link)}">{escape(headline, quote=False)}</a>'
    plain = f"{headline}\n{link}"
    if standfirst:
        html += "\n" + escape(standfirst, quote=False)
        plain = f"{headline}\n{standfirst}\n{link}"
    return _Item(html, plain)


def _split(items: list[_Item], room: int) -> list[list[_Item]]:
    """Consecutive items packed greedily into messages, none over `room` characters."""
    parts: list[list[_Item]] = []
    used = room
    for item in items:
        needed = len(_SEPARATOR) + item.length
        if not parts or used + needed > room or len(parts[-1]) >= ARTICLES_PER_MESSAGE_MAX:
            parts.append([])
            used = 0
        parts[-1].append(item)
        used += needed
    return parts


def digest_messages(
    articles: Sequence[DigestArticle], *, period: str, bot_username: str
) -> list[DigestMessage]:
    """The digest's messages, in order; none when there is no article."""
    title = digest_title(period)
    room = TEXT_MAX - len(title) - _PART_COUNT_ROOM
    parts = _split([_item(article, bot_username) for article in articles], room)
    messages = []
    for number, part in enumerate(parts, start=1):
        counted = f"{title} ({number}/{len(parts)})" if len(parts) > 1 else title
        messages.append(
            DigestMessage(
                html=_SEPARATOR.join(
                    [f"<b>{escape(counted, quote=False)}</b>"] + [item.html for item in part]
                ),
                plain=_SEPARATOR.join([counted] + [item.plain for item in part]),
            )
        )
    return messages
