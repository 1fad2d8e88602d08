"""What readers see of a poll: the HTML block, the option buttons and the after-vote toast.

Rendering is deterministic (the same view gives the same text and keyboard), so
:func:`view_fingerprint` of a rendered message tells whether an edit would change anything.
The poll itself is ``newsroom.poll.PollView``; texts are cut with ``newsroom.plaintext.shorten``.
"""

from __future__ import annotations

import hashlib
import json
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.callback_data import ClosedPollTap, VoteTap, encode
from newsroom.plaintext import shorten, tidy
from newsroom.poll import PollView
from newsroom.tally import bar, format_count

QUESTION_MAX = 300  # Telegram's own poll question limit; keeps the block predictable in size
OPTION_MAX = 100  # Telegram's own poll option limit
BUTTON_LABEL_MAX = 40  # longer labels get cut off by clients on a phone-wide keyboard
TOAST_MAX = 200  # answerCallbackQuery text limit
CLOSED_LABEL = "🔒 Poll closed"


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
