"""What readers see of a poll: the HTML block, the option buttons and the after-vote toast.

Rendering is deterministic (the same view gives the same text and keyboard), so
:func:`view_fingerprint` of a rendered message tells whether an edit would change anything.
Also home of :func:`shorten`, the one way the bot cuts reader-facing text to a length.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.callback_data import MAX_OPTIONS, ClosedPollTap, VoteTap, encode
from newsroom.tally import Tally, bar, format_count

ELLIPSIS = "…"
QUESTION_MAX = 300  # Telegram's own poll question limit; keeps the block predictable in size
OPTION_MAX = 100  # Telegram's own poll option limit
BUTTON_LABEL_MAX = 40  # longer labels get cut off by clients on a phone-wide keyboard
TOAST_MAX = 200  # answerCallbackQuery text limit
CLOSED_LABEL = "🔒 Poll closed"

_SENTENCE_ENDS = ".!?…"
_CLOSERS = "\"')]\u201d\u2019\u00bb"  # closing quotes and brackets after a full stop
_ZWJ = "\u200d"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


@dataclass(frozen=True)
class PollView:
    """Everything needed to show one poll: its texts, its tally and how results are shown."""

    poll_id: int
    question: str
    options: tuple[str, ...]
    tally: Tally
    closed: bool
    # False: counts stay out of the message until the poll closes; voters see them in a toast
    results_visible: bool

    def __post_init__(self) -> None:
        if not 1 <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(f"a poll has 1..{MAX_OPTIONS} options, got {len(self.options)}")
        if len(self.tally.counts) != len(self.options):
            raise ValueError("the tally must have one count per option")

    @property
    def shows_results(self) -> bool:
        """Whether counts and percentages are public: always once the poll is closed."""
        return self.results_visible or self.closed


def tidy(text: str) -> str:
    """``text`` on one line: runs of whitespace and control characters become one space."""
    # Telegram shows control characters as spaces; treating them so keeps lengths honest
    return " ".join(_CONTROL.sub(" ", text).split())


def _extends_previous(char: str) -> bool:
    """Whether ``char`` belongs to the character before it (accents, emoji modifiers, joiners)."""
    code = ord(char)
    return (
        unicodedata.category(char) in {"Mn", "Me", "Mc"}
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (text vs emoji style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters of subdivision flags
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _hard_cut(text: str, length: int) -> str:
    """The first ``length`` code points at most, backing off so no emoji or accent is split."""
    end = length
    while end > 0 and (_extends_previous(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    # flags are pairs of regional indicators; an odd run before the cut means one is split
    run = 0
    while run < end and _is_regional_indicator(text[end - 1 - run]):
        run += 1
    if run % 2 == 1 and end < len(text) and _is_regional_indicator(text[end]):
        end -= 1
    return text[:end]


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` code points, else a shorter version ending in "…".

    Cuts after the last whole sentence that fits, else at the last word boundary, else inside a
    word (never inside an emoji sequence), preferring a boundary only when it keeps at least half.
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS if limit == 1 else ""
    room = limit - 1  # the ellipsis takes one
    floor = limit // 2
    for end in range(limit - 2, floor - 1, -1):
        # a sentence ends in punctuation (maybe closing quotes) followed by a space
        if text[end].isspace() and text[:end].rstrip(_CLOSERS)[-1:] in tuple(_SENTENCE_ENDS):
            return text[:end] + " " + ELLIPSIS
    for end in range(room, floor - 1, -1):
        if text[end].isspace():
            cut = text[:end].rstrip().rstrip(",;:-\u2013\u2014").rstrip()
            if len(cut) >= floor:
                return cut + ELLIPSIS
            break
    return _hard_cut(text, room).rstrip() + ELLIPSIS


def _option_names(view: PollView) -> list[str]:
    """Each option on one line; a blank one gets its number, as Telegram refuses empty buttons."""
    return [tidy(text) or f"Option {position + 1}" for position, text in enumerate(view.options)]


def _option_line(name: str, share_percent: int, count: int) -> str:
    return (
        f"{escape(shorten(name, OPTION_MAX), quote=False)} "
        f"{bar(share_percent / 100)} {share_percent}% · {format_count(count)}"
    )


def render_poll_html(view: PollView) -> str:
    """The poll block in Telegram HTML: bold question, the options, ``Total votes: N``."""
    question = shorten(tidy(view.question), QUESTION_MAX) or "Poll"
    lines = [f"📊 <b>{escape(question, quote=False)}</b>"]
    if view.shows_results:
        percentages = view.tally.percentages()
        lines += [
            _option_line(name, percent, count)
            for name, percent, count in zip(
                _option_names(view), percentages, view.tally.counts, strict=True
            )
        ]
    else:
        lines += [
            f"▫️ {escape(shorten(name, OPTION_MAX), quote=False)}" for name in _option_names(view)
        ]
    lines.append(f"Total votes: {format_count(view.tally.total)}")
    if view.closed:
        lines.append("🔒 <i>Poll closed</i>")
    return "\n".join(lines)


def _button_label(text: str, count: int | None) -> str:
    suffix = "" if count is None else f" · {format_count(count)}"
    return shorten(text, BUTTON_LABEL_MAX - len(suffix)) + suffix


def poll_buttons(view: PollView) -> list[list[InlineKeyboardButton]]:
    """One row per option (with its count when results are public), or one "Poll closed" row."""
    if view.closed:
        return [
            [InlineKeyboardButton(CLOSED_LABEL, callback_data=encode(ClosedPollTap(view.poll_id)))]
        ]
    rows = []
    names = _option_names(view)
    for position, (name, count) in enumerate(zip(names, view.tally.counts, strict=True)):
        label = _button_label(name, count if view.results_visible else None)
        data = encode(VoteTap(view.poll_id, position))
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    return rows


def toast_for_results(view: PollView) -> str:
    """Current results as plain text for a callback answer, within Telegram's 200 characters."""
    header = f"Results so far · {format_count(view.tally.total)} votes"
    shares = list(
        zip(_option_names(view), view.tally.percentages(), view.tally.counts, strict=True)
    )
    numbers = [f": {percent}% ({format_count(count)})" for _, percent, count in shares]
    if len(header) + sum(1 + len(n) for n in numbers) > TOAST_MAX - 4 * len(shares):
        # huge counts on many options: percentages alone leave room for the option names
        numbers = [f": {percent}%" for _, percent, _ in shares]
    # the option names share what is left, the longest shortened first
    budget = TOAST_MAX - len(header) - sum(1 + len(n) for n in numbers)
    names = [name for name, _, _ in shares]
    while (longest := max(len(name) for name in names)) > 0 and sum(map(len, names)) > budget:
        names = [shorten(name, longest - 1) for name in names]
    lines = [header] + [name + n for name, n in zip(names, numbers, strict=True)]
    return "\n".join(lines)[:TOAST_MAX]


def view_fingerprint(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """A sha256 hex digest of a message's text and keyboard: equal digests, identical message."""
    keyboard = None if markup is None else markup.to_dict()
    payload = json.dumps([text, keyboard], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
