"""What corrections say: to the admin (usage, refusals, previews, progress, the report) and to
readers (the line a corrected card shows, the notice a withdrawn copy becomes)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.telegram.command_input import echo
from newsroom.plaintext import shorten, tidy
from storage.corrections import CHAT_INACTIVE, Counts
from storage.models import CorrectionAction

NOTE_MAX = 200  # a note or reason is one line on every copy
TITLE_SHOWN = 80
FAILURE_SHOWN = 600  # a reason quoting a page's address or a parser's complaint, kept short

UPDATE_USAGE = (
    "Send /update followed by the article id and, if you like, a note for readers, e.g. "
    "/update 12 Corrected the turnout figure. As a reply to a corrected .md file, the article "
    "is read from that file instead of its address."
)
RETRACT_USAGE = (
    "Send /retract followed by the article id and, if you like, the reason readers see, e.g. "
    "/retract 12 The interview was not authorised."
)
NO_SUCH_ARTICLE = "There is no article {id}."
WITHDRAWN_NOT_UPDATED = "Article {id} was withdrawn: a withdrawn article is not updated."
ALREADY_WITHDRAWN = "Article {id} is already withdrawn."
NOTE_TOO_LONG = "The {what} is {length} characters long; at most {limit} fit on every copy."
READING = "Reading article {id} again …"
NOTHING_CHANGED = (
    "Nothing changed: article {id} reads the same as the card readers have. No copy was edited."
)
ALREADY_DECIDED = "This was already confirmed or cancelled."
CONFIRM = "Confirm"
CANCEL = "Cancel"

_FAILURES = {
    CHAT_INACTIVE: "chat no longer has me",
    "blocked": "blocked me",
    "kicked": "removed me",
    "chat_not_found": "chat gone",
    "migrated": "group moved to a supergroup",
    "message_gone": "message deleted",
    "cannot_delete": "could not be deleted",
}


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def headline(title: str) -> str:
    return echo(title, TITLE_SHOWN)


def reader_note(text: str) -> str:
    """A note or reason as readers will see it: one line."""
    return tidy(text)


def updated_line(at: datetime, zone: ZoneInfo, note: str | None) -> str:
    """The line a corrected card shows: "Updated 14:05: <note>" in the bot's time zone."""
    moment = f"Updated {at.astimezone(zone):%H:%M}"
    return f"{moment}: {shorten(note, NOTE_MAX)}" if note else moment


def not_read(article_id: int, reason: str) -> str:
    """Why the article could not be read again, as one sentence, and that nothing changed."""
    said = echo(reason, FAILURE_SHOWN).rstrip()
    if not said.endswith((".", "!", "?")):
        said += "."
    return f"Could not read article {article_id} again: {said} Nothing was changed."


def withdrawal_notice(reason: str | None) -> str:
    """What a withdrawn article's copy says where it could not be deleted."""
    return f"This article was withdrawn: {reason}" if reason else "This article was withdrawn."


def update_preview(
    article_id: int,
    *,
    title: str,
    changes: list[str],
    copies: int,
    unreachable: int,
    note: str | None,
) -> str:
    line = f"“Updated HH:MM: {note}”" if note else "“Updated HH:MM”"
    lines = [
        f"Update article {article_id}: {headline(title)}",
        *changes,
        "",
        f"{plural(copies, 'copy', 'copies')} will be edited in place (keyboard and live totals "
        f"kept), each with the line {line}, HH:MM being when you confirm.",
    ]
    if unreachable:
        lines.append(
            f"{plural(unreachable, 'copy is', 'copies are')} in chats that no longer have me "
            "and stay as they are."
        )
    return "\n".join(lines)


def retract_preview(
    article_id: int,
    *,
    title: str,
    copies: int,
    unreachable: int,
    pending: int,
    reason: str | None,
    has_poll: bool,
) -> str:
    lines = [
        f"Withdraw article {article_id}: {headline(title)}",
        f"Readers see: “{withdrawal_notice(reason)}”",
        "",
        f"{plural(copies, 'copy', 'copies')}: each one I may still delete is deleted; the "
        "others (older than 48 hours, shared inline, channel posts I may not delete) are "
        "replaced with that notice.",
        "It leaves inline search and /latest"
        + (", its poll closes (the votes are kept)" if has_poll else "")
        + (
            f", and {plural(pending, 'delivery', 'deliveries')} not yet sent are cancelled."
            if pending
            else "."
        ),
    ]
    if unreachable:
        lines.append(
            f"{plural(unreachable, 'copy is', 'copies are')} in chats that no longer have me "
            "and stay as they are."
        )
    return "\n".join(lines)


def _verb(action: CorrectionAction) -> str:
    return "Correcting" if action is CorrectionAction.UPDATE else "Withdrawing"


def _tallies(action: CorrectionAction, counts: Counts) -> str:
    parts = (
        [f"Edited: {counts.edited}"]
        if action is CorrectionAction.UPDATE
        else [f"Deleted: {counts.deleted}", f"Replaced with a notice: {counts.notices}"]
    )
    failed = f"Failed: {counts.failed_total}"
    if counts.failed:
        reasons = ", ".join(f"{_FAILURES.get(reason, reason)}: {n}" for reason, n in counts.failed)
        failed += f" ({reasons})"
    parts.append(failed)
    if counts.superseded:
        parts.append(f"Taken over by a later correction: {counts.superseded}")
    return " · ".join(parts)


def progress(action: CorrectionAction, article_id: int, counts: Counts) -> str:
    return (
        f"{_verb(action)} article {article_id}: {counts.done} of "
        f"{plural(counts.total, 'copy', 'copies')} done.\n"
        f"{_tallies(action, counts)} · Remaining: {counts.remaining}"
    )


def report(action: CorrectionAction, article_id: int, counts: Counts, took: str) -> str:
    outcome = "corrected" if action is CorrectionAction.UPDATE else "withdrawn"
    return (
        f"Article {article_id} {outcome}: {plural(counts.total, 'copy', 'copies')} in {took}.\n"
        f"{_tallies(action, counts)}"
    )


def started(action: CorrectionAction, article_id: int, copies: int) -> str:
    return f"{_verb(action)} article {article_id}: {plural(copies, 'copy', 'copies')} to go …"


def cancelled(action: CorrectionAction, article_id: int) -> str:
    what = "Update" if action is CorrectionAction.UPDATE else "Withdrawal"
    return f"{what} of article {article_id} cancelled: nothing changed."


def refused_confirm(article_id: int, reason: str) -> str:
    return {
        "gone": f"Article {article_id} no longer exists.",
        "withdrawn": f"Article {article_id} was withdrawn meanwhile: nothing changed.",
        "changed": (
            f"Article {article_id} was corrected again since this preview: send the command "
            "again for a new one."
        ),
    }.get(reason, ALREADY_DECIDED)
