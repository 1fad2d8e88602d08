"""/report and /export for admins: one article's engagement as a chart and caption, the last 7
days as a bar chart, and one article's numbers as a CSV document.

Charts are drawn in a worker thread (matplotlib is CPU-bound and would stall every other update);
the numbers are read in one short transaction before, and Telegram is called after it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import InputFile, Update

from bot.admins import AdminChat, admin_command
from bot.reports import charts
from bot.reports.export import engagement_csv
from bot.reports.readers import render_choices
from bot.services import BotContext
from bot.telegram.command_input import sole_id
from newsroom.engagement import ArticleEngagement, ArticleSummary
from newsroom.plaintext import shorten, tidy
from newsroom.tally import format_count
from storage import articles, engagement, preferences
from storage.types import utcnow

REPORT_USAGE = "Usage: /report <article id>, e.g. /report 12; /report alone shows the last 7 days."
EXPORT_USAGE = "Usage: /export <article id>, e.g. /export 12"
NO_SUCH_ARTICLE = "There is no article {id}."
NO_POLL_EXPORT = "Article {id} has no poll: the export has no option or hourly vote rows."
NO_ARTICLES_THIS_WEEK = "No articles were published in the last 7 days."
WEEK_DAYS = 7
_WEEK_TITLE_MAX = 40
# Lines of the weekly overview: more would not fit in one message (4,096 characters).
_WEEK_LINES = 25


async def _engagement(context: BotContext, article_id: int) -> ArticleEngagement | None:
    # Clicks are counted only where link tracking is on (LINK_TRACKING_URL).
    tracked = context.services.settings.link_tracking_url is not None
    async with context.services.db.transaction() as session:
        return await engagement.article_engagement(
            session, article_id=article_id, clicks_tracked=tracked
        )


async def _readers_now(context: BotContext, article_id: int) -> list[str]:
    """Who would get the article now: the readers of its sections (or of every section), per
    delivery mode and per section."""
    async with context.services.db.transaction() as session:
        article = await articles.get_article(session, article_id=article_id)
        sections = list(article.topics) if article is not None else []
        choices = await preferences.reader_choices(session, sections=sections)
    return render_choices(choices)


@admin_command
async def report(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """/report <id>: the article's chart with its caption; /report alone: the last 7 days."""
    if not context.args:
        await _week_report(context, chat)
        return
    if (article_id := sole_id(context.args)) is None:
        await chat.say(REPORT_USAGE)
        return
    if (numbers := await _engagement(context, article_id)) is None:
        await chat.say(NO_SUCH_ARTICLE.format(id=article_id))
        return
    text = "\n".join([charts.caption(numbers), *await _readers_now(context, article_id)])
    png = await asyncio.to_thread(charts.article_chart, numbers)
    if png is None:
        # Nothing to plot yet: the caption alone, which says so.
        await chat.say(text)
        return
    await send_chart(chat, png, text)


def week_lines(summaries: list[ArticleSummary]) -> list[str]:
    """One line per article: its id and headline, then reached, voters, reactions, shares."""
    return [
        f"{summary.article_id}. {shorten(tidy(summary.title), _WEEK_TITLE_MAX)}: "
        f"reached {format_count(summary.reached)} · voters {format_count(summary.voters)} · "
        f"reactions {format_count(summary.reactions)} · shares {format_count(summary.shares)}"
        for summary in summaries
    ]


async def _week_report(context: BotContext, chat: AdminChat) -> None:
    async with context.services.db.transaction() as session:
        summaries = await engagement.week_summaries(
            session, since=utcnow() - timedelta(days=WEEK_DAYS)
        )
    if not summaries:
        await chat.say(NO_ARTICLES_THIS_WEEK)
        return
    lines = week_lines(summaries[:_WEEK_LINES])
    if len(summaries) > _WEEK_LINES:
        lines.append(f"and {len(summaries) - _WEEK_LINES} more")
    text = "\n".join([f"📊 Last {WEEK_DAYS} days", *lines])
    png = await asyncio.to_thread(charts.week_chart, summaries)
    if png is None:
        await chat.say(f"{text}\n{charts.NOTHING_TO_PLOT}")
        return
    await send_chart(chat, png, text)


async def send_chart(chat: AdminChat, png: bytes, text: str) -> None:
    """The chart with ``text`` as its caption, or, when ``text`` is too long for a caption, the
    chart first and the text after it as a message."""
    if len(text) <= charts.CAPTION_MAX:
        await chat.bot.send_photo(chat.chat_id, photo=png, caption=text)
        return
    await chat.bot.send_photo(chat.chat_id, photo=png)
    await chat.say(text)


def export_filename(article_id: int) -> str:
    return f"article-{article_id}-engagement.csv"


@admin_command
async def export(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """/export <id>: the article's engagement as a CSV document."""
    if (article_id := sole_id(context.args)) is None:
        await chat.say(EXPORT_USAGE)
        return
    if (numbers := await _engagement(context, article_id)) is None:
        await chat.say(NO_SUCH_ARTICLE.format(id=article_id))
        return
    document = engagement_csv(numbers, zone=context.services.settings.zone)
    note = NO_POLL_EXPORT.format(id=article_id) if numbers.question is None else None
    await chat.bot.send_document(
        chat.chat_id,
        document=InputFile(document, filename=export_filename(article_id)),
        caption=note,
    )
