"""/stats for admins: subscribers by chat type, forum topics subscribed and ended by reason,
readers per delivery mode and per section, articles, deliveries and failures, votes today, with
the chart of subscribers over the last 30 days by chat type."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Update

from bot.admins import AdminChat, admin_command
from bot.reports import charts
from bot.reports.engagement import send_chart
from bot.reports.readers import render_choices
from bot.services import BotContext
from storage import engagement, stats
from storage.forum_topics import TopicCounts
from storage.models import ChatKind, DeliveryKind, DeliveryStatus

SUBSCRIBER_DAYS = 30


def render_stats(numbers: stats.BotStats) -> str:
    lines = ["Subscribers (active / inactive):"]
    for chat_kind in ChatKind:
        active = numbers.subscribers.get((chat_kind, True), 0)
        inactive = numbers.subscribers.get((chat_kind, False), 0)
        lines.append(f"  {chat_kind.value}: {active} / {inactive}")
    lines.append(render_topics(numbers.topics))
    lines.extend(render_choices(numbers.choices))
    lines.append(f"Articles published: {numbers.articles_published}")
    for kind in DeliveryKind:
        by_status = {
            status: sum(
                count
                for (k, s, _), count in numbers.deliveries.items()
                if k is kind and s is status
            )
            for status in DeliveryStatus
        }
        lines.append(
            f"{kind.value.capitalize()} deliveries: "
            + ", ".join(f"{status.value} {count}" for status, count in by_status.items())
        )
    failures: dict[str, int] = {}
    for (_, status, failure), count in numbers.deliveries.items():
        if status in {DeliveryStatus.FAILED, DeliveryStatus.CANCELLED} and failure:
            failures[failure] = failures.get(failure, 0) + count
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(failures.items()))
    lines.append(f"Failures by reason: {reasons or 'none'}")
    lines.append(f"Votes today: {numbers.votes_today}")
    return "\n".join(lines)


def render_topics(topics: TopicCounts) -> str:
    """One line: forum topics receiving articles, and topic subscriptions ended by reason."""
    ended = ", ".join(f"{reason.value} {count}" for reason, count in sorted(topics.ended.items()))
    return f"Forum topics subscribed: {topics.subscribed}; ended: {ended or 'none'}"


@admin_command
async def show_stats(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """The numbers, in the admin's private chat."""
    zone = context.services.settings.zone
    day_start = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    async with context.services.db.transaction() as session:
        numbers = await stats.bot_stats(session, day_start=day_start.astimezone(UTC))
        history = await engagement.subscriber_history(
            session, days=SUBSCRIBER_DAYS, now=datetime.now(zone)
        )
    text = render_stats(numbers)
    png = await asyncio.to_thread(charts.subscribers_chart, history)
    if png is None:
        # No subscribers in the last 30 days: nothing to draw, the numbers alone.
        await chat.say(text)
        return
    await send_chart(chat, png, text)
