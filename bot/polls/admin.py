"""Admin commands about polls: /closepoll <id> closes one, /results <id> shows its counts."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.constants import ParseMode

from bot.admins import AdminChat, admin_chat
from bot.polls.view import tidy
from bot.services import BotContext
from bot.telegram.command_input import sole_id
from newsroom.tally import format_count
from storage import polls
from storage.polls import PollResults

CLOSE_USAGE = "Usage: /closepoll <poll id>, e.g. /closepoll 12"
RESULTS_USAGE = "Usage: /results <poll id>, e.g. /results 12"


async def _asked_poll(
    update: Update, context: BotContext, usage: str
) -> tuple[AdminChat, int] | None:
    """Where to answer and the poll id; None once the admin check or the usage has answered."""
    if (chat := await admin_chat(update, context)) is None:
        return None
    if (poll_id := sole_id(context.args)) is None:
        await chat.say(usage)
        return None
    return chat, poll_id


def _plural(count: int, one: str, many: str) -> str:
    return f"{format_count(count)} {one if count == 1 else many}"


def results_html(results: PollResults) -> str:
    """Counts, percentages and where the votes came from, in Telegram HTML."""
    record, tally = results.record, results.tally
    question = escape(tidy(record.question) or "Poll", quote=False)
    lines = [f"📊 <b>{question}</b> (poll {record.poll_id})"]
    for position, (text, percent, count) in enumerate(
        zip(record.options, tally.percentages(), tally.counts, strict=True)
    ):
        name = escape(tidy(text) or f"Option {position + 1}", quote=False)
        lines.append(f"{name}: {percent}% ({format_count(count)})")
    sources = f"from {_plural(results.chats, 'chat', 'chats')}"
    if results.inline_votes:
        sources += f" and {_plural(results.inline_votes, 'vote', 'votes')} in shared copies"
    lines.append(f"Total votes: {format_count(tally.total)}, {sources}")
    if record.closed:
        lines.append("🔒 Closed")
    elif record.closes_at is not None:
        lines.append(f"Open, closes {record.closes_at:%Y-%m-%d %H:%M} UTC")
    else:
        lines.append("Open")
    return "\n".join(lines)


async def close_poll(update: Update, context: BotContext) -> None:
    """/closepoll <id>: close the poll; every copy then shows the final results."""
    if (asked := await _asked_poll(update, context, CLOSE_USAGE)) is None:
        return
    chat, poll_id = asked
    services = context.services
    closed = await services.polls.close(poll_id)
    async with services.db.transaction() as session:
        results = await polls.poll_results(session, poll_id=poll_id)
    if results is None:
        await chat.say(f"There is no poll {poll_id}.")
        return
    if closed:
        services.live_totals.poll_changed(poll_id)
        head = f"Poll {poll_id} is closed. Every copy now shows the final results."
    else:
        head = f"Poll {poll_id} was already closed."
    await chat.say(f"{head}\n\n{results_html(results)}", parse_mode=ParseMode.HTML)


async def show_results(update: Update, context: BotContext) -> None:
    """/results <id>: counts, percentages and how many chats voted."""
    if (asked := await _asked_poll(update, context, RESULTS_USAGE)) is None:
        return
    chat, poll_id = asked
    async with context.services.db.transaction() as session:
        results = await polls.poll_results(session, poll_id=poll_id)
    if results is None:
        await chat.say(f"There is no poll {poll_id}.")
        return
    await chat.say(results_html(results), parse_mode=ParseMode.HTML)
