"""Admin commands about polls: /closepoll <id> closes one (its final results chart then goes
to the admins and channel copies), /results <id> shows its counts."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.constants import ParseMode

from bot.admins import AdminChat, admin_command
from bot.services import BotContext
from bot.telegram.command_input import sole_id
from newsroom.plaintext import tidy
from newsroom.tally import format_count
from storage import polls
from storage.polls import PollResults

CLOSE_USAGE = "Usage: /closepoll <poll id>, e.g. /closepoll 12"
RESULTS_USAGE = "Usage: /results <poll id>, e.g. /results 12"


async def _asked_poll(chat: AdminChat, context: BotContext, usage: str) -> int | None:
    """The poll id the admin typed; None once the usage has answered instead."""
    if (poll_id := sole_id(context.args)) is None:
        await chat.say(usage)
    return poll_id


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


@admin_command
async def close_poll(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """/closepoll <id>: close the poll; every copy then shows the final results."""
    if (poll_id := await _asked_poll(chat, context, CLOSE_USAGE)) is None:
        return
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
    if closed:
        # After the answer: the chart is drawn and sent to every admin and channel copy.
        await services.final_results.poll_closed(poll_id)


@admin_command
async def show_results(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """/results <id>: counts, percentages and how many chats voted."""
    if (poll_id := await _asked_poll(chat, context, RESULTS_USAGE)) is None:
        return
    async with context.services.db.transaction() as session:
        results = await polls.poll_results(session, poll_id=poll_id)
    if results is None:
        await chat.say(f"There is no poll {poll_id}.")
        return
    await chat.say(results_html(results), parse_mode=ParseMode.HTML)
