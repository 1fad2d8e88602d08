"""An article's engagement as a CSV document an editor opens in a spreadsheet as it is.

One table, one row per number set, a "section" column saying what the row counts:

- ``article``: the headline, all votes, all reactions, copies sent, failed and blocked;
- ``reach``: copies sent, failed and blocked per chat type;
- ``option``: each poll option's votes and percentage (the percentages add up to 100);
- ``chat``: votes and reactions per group, supergroup or channel, by title and type; private
  chats are one row together, because a private chat's title is a person's name;
- ``hour``: votes cast in each hour from the first vote to the last, in ``zone``;
- ``reaction``: each reaction's count, with its kind (emoji, custom, paid).

UTF-8 with a byte-order mark, because Excel reads a CSV without one in the machine's legacy code
page (LibreOffice and Google Sheets skip the mark); RFC 4180 quoting and CRLF line ends, as the
csv module writes them. Cells that a spreadsheet would run as a formula are written as text.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta, tzinfo

from newsroom.engagement import ArticleEngagement
from newsroom.tally import Tally

COLUMNS = (
    "section",
    "label",
    "chat_type",
    "reaction_kind",
    "votes",
    "percent",
    "reactions",
    "sent",
    "failed",
    "blocked",
)
PRIVATE_CHATS = "private chats"
HOUR_FORMAT = "%Y-%m-%d %H:%M"  # spreadsheets read this as a date and time
# A leading = + - @ (or tab, carriage return) makes a spreadsheet run the cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def engagement_csv(engagement: ArticleEngagement, *, zone: tzinfo = UTC) -> bytes:
    """The CSV document of one article's engagement, as UTF-8 bytes with a byte-order mark."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in _rows(engagement, zone):
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue().encode("utf-8-sig")


def _rows(engagement: ArticleEngagement, zone: tzinfo) -> list[dict[str, str | int]]:
    reach = engagement.reach
    rows: list[dict[str, str | int]] = [
        {
            "section": "article",
            "label": engagement.title,
            "votes": sum(engagement.option_counts),
            "reactions": engagement.reaction_total,
            "sent": engagement.reached,
            "failed": sum(row.failed for row in reach),
            "blocked": sum(row.blocked for row in reach),
        }
    ]
    rows += [
        {
            "section": "reach",
            "chat_type": row.chat_kind,
            "sent": row.sent,
            "failed": row.failed,
            "blocked": row.blocked,
        }
        for row in reach
    ]
    percentages = Tally(engagement.option_counts).percentages()
    rows += [
        {"section": "option", "label": option, "votes": count, "percent": percent}
        for option, count, percent in zip(
            engagement.options, engagement.option_counts, percentages, strict=True
        )
    ]
    private = [chat for chat in engagement.per_chat if chat.chat_kind == "private"]
    rows += [
        {
            "section": "chat",
            "label": chat.title,
            "chat_type": chat.chat_kind,
            "votes": chat.votes,
            "reactions": chat.reactions,
        }
        for chat in engagement.per_chat
        if chat.chat_kind != "private"
    ]
    if private:
        rows.append(
            {
                "section": "chat",
                "label": PRIVATE_CHATS,
                "chat_type": "private",
                "votes": sum(chat.votes for chat in private),
                "reactions": sum(chat.reactions for chat in private),
            }
        )
    rows += [
        {"section": "hour", "label": hour.strftime(HOUR_FORMAT), "votes": votes}
        for hour, votes in _votes_per_hour(engagement.vote_times, zone)
    ]
    rows += [
        {
            "section": "reaction",
            "label": reaction.key,
            "reaction_kind": reaction.kind.value,
            "reactions": reaction.count,
        }
        for reaction in engagement.reactions
    ]
    return rows


def _votes_per_hour(times: tuple[datetime, ...], zone: tzinfo) -> list[tuple[datetime, int]]:
    """Votes per hour in ``zone``, every hour from the first vote's to the last's (zeros too)."""
    if not times:
        return []
    # naive times from the database are UTC; hours are counted in UTC and shown in ``zone``,
    # so a clock change neither merges two hours nor skips one
    hours = Counter(
        (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)).replace(
            minute=0, second=0, microsecond=0
        )
        for t in times
    )
    first, last = min(hours), max(hours)
    span = int((last - first) / timedelta(hours=1))
    every = (first + timedelta(hours=n) for n in range(span + 1))
    return [(hour.astimezone(zone), hours.get(hour, 0)) for hour in every]


def _cell(value: str | int) -> str | int:
    """A text cell as text: a leading formula character is escaped with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
