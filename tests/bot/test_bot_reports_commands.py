"""What editors get through the emulator: /report with a PNG chart and a caption whose numbers
match the database, /report alone for the week, /export as a CSV that parses back into the same
counts, /stats with its chart, the final results chart when a poll closes, and the bad inputs."""

from __future__ import annotations

import csv
import io
import struct
from datetime import timedelta

import pytest
from harness import RunningBot, wait_until
from polls_support import create_article_poll, started_private_chat
from reports_world import Desk, desk_with_copies, stored_engagement

from bot.admins import ADMIN_ONLY
from bot.polls.final_results import NO_VOTES
from bot.reports import charts
from bot.reports.engagement import (
    EXPORT_USAGE,
    NO_POLL_EXPORT,
    NO_SUCH_ARTICLE,
    REPORT_USAGE,
    export_filename,
)
from bot.reports.readers import render_choices
from bot.reports.stats import render_stats
from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import SimChat, SimMessage
from storage import preferences, stats
from storage.models import Article, Poll
from storage.types import utcnow

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def _ask(running_bot: RunningBot, text: str) -> SimMessage:
    """The admin sends `text` in their private chat; the bot's first answer."""
    emu = running_bot.emulator
    chat = started_private_chat(emu, running_bot.admin)
    sent = await emu.send_message(running_bot.admin, text)
    return await emu.wait_for_bot_message(chat, after=sent.message_id, timeout=15)


async def _votes_and_reactions(running_bot: RunningBot, desk: Desk) -> None:
    """Three votes and two reactions, stored before the test goes on."""
    emu = running_bot.emulator
    ann, bob, cai, _ = desk.readers
    await emu.press_button(ann, desk.private_card, data=encode(VoteTap(desk.poll_id, 0)))
    await emu.press_button(bob, desk.group_card, data=encode(VoteTap(desk.poll_id, 0)))
    await emu.press_button(cai, desk.channel_card, data=encode(VoteTap(desk.poll_id, 2)))
    await emu.react(ann, desk.group, desk.group_card.message_id, ["👍"])
    await emu.react(bob, desk.channel, desk.channel_card.message_id, ["🔥"])

    async def stored() -> bool:
        numbers = await stored_engagement(running_bot, desk.article_id)
        return numbers.voters == 3 and numbers.reaction_total == 2

    await wait_until(stored, timeout=10, what="the votes and reactions")


async def test_report_is_a_chart_with_the_database_numbers(running_bot: RunningBot) -> None:
    """/report <id> answers with one 1280x720 PNG and the caption of the stored numbers; /report
    alone answers with the week's chart and one line per article."""
    emu = running_bot.emulator
    desk = await desk_with_copies(running_bot)
    await _votes_and_reactions(running_bot, desk)

    reply = await _ask(running_bot, f"/report {desk.article_id}")
    assert reply.photo_sizes
    assert png_size(emu.file_bytes(reply)) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    numbers = await stored_engagement(running_bot, desk.article_id)
    async with running_bot.db.transaction() as session:
        readers = await preferences.reader_choices(session)
    assert reply.text == "\n".join([charts.caption(numbers), *render_choices(readers)])
    assert "Readers by delivery: instant " in (reply.text or "")
    assert "Voters 3" in (reply.text or "")
    assert "Reactions 2: 👍 1 · 🔥 1" in (reply.text or "")

    week = await _ask(running_bot, "/report")
    assert week.photo_sizes
    assert png_size(emu.file_bytes(week)) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert (week.text or "").splitlines()[1].startswith(f"{desk.article_id}. ")
    assert "voters 3 · reactions 2 · shares 0" in (week.text or "")


async def test_export_is_a_csv_of_the_same_counts(running_bot: RunningBot) -> None:
    """/export <id> sends a CSV document named for the article that parses back into the
    stored option, chat and reaction counts."""
    emu = running_bot.emulator
    desk = await desk_with_copies(running_bot)
    await _votes_and_reactions(running_bot, desk)

    reply = await _ask(running_bot, f"/export {desk.article_id}")
    assert reply.document is not None
    assert reply.document["file_name"] == export_filename(desk.article_id)
    rows = list(csv.DictReader(io.StringIO(emu.file_bytes(reply).decode("utf-8-sig"))))
    options = {row["label"]: int(row["votes"]) for row in rows if row["section"] == "option"}
    assert options == {"Yes": 2, "No": 0, "Maybe": 1}
    reactions = {
        row["label"]: int(row["reactions"]) for row in rows if row["section"] == "reaction"
    }
    assert reactions == {"👍": 1, "🔥": 1}
    chats = {row["label"]: int(row["votes"]) for row in rows if row["section"] == "chat"}
    assert chats["Riverside neighbours"] == 1
    assert chats["City Desk"] == 1
    (article,) = [row for row in rows if row["section"] == "article"]
    assert (int(article["votes"]), int(article["reactions"])) == (3, 2)


async def test_report_and_export_refuse_bad_input(running_bot: RunningBot) -> None:
    """An unknown id, a malformed one and a reader each get one clear line; an article without
    a poll still gets its report (saying there is no poll) and its export."""
    emu = running_bot.emulator
    async with running_bot.db.transaction() as session:
        article = Article(canonical_url="https://news.example/no-poll", title="Roadworks ahead")
        session.add(article)
        await session.flush()
        assert article.id is not None
        no_poll = article.id

    assert (await _ask(running_bot, "/report 424242")).text == NO_SUCH_ARTICLE.format(id=424242)
    assert (await _ask(running_bot, "/export 424242")).text == NO_SUCH_ARTICLE.format(id=424242)
    assert (await _ask(running_bot, "/report twelve")).text == REPORT_USAGE
    assert (await _ask(running_bot, "/export")).text == EXPORT_USAGE

    bare = await _ask(running_bot, f"/report {no_poll}")
    assert not bare.photo_sizes
    assert "No poll on this article" in (bare.text or "")
    assert charts.NOTHING_TO_PLOT in (bare.text or "")
    exported = await _ask(running_bot, f"/export {no_poll}")
    assert exported.document is not None
    assert exported.text == NO_POLL_EXPORT.format(id=no_poll)

    reader = emu.create_user("Nosy")
    private = started_private_chat(emu, reader)
    for command in (f"/report {no_poll}", "/report", f"/export {no_poll}"):
        sent = await emu.send_message(reader, command)
        refusal = await emu.wait_for_bot_message(private, after=sent.message_id, timeout=10)
        assert refusal.text == ADMIN_ONLY
    assert [m for m in emu.bot_messages(private) if m.photo_sizes or m.document] == []


async def test_stats_comes_with_the_subscribers_chart(running_bot: RunningBot) -> None:
    """/stats answers with the subscribers chart, the numbers as its caption."""
    emu = running_bot.emulator
    reader = emu.create_user("Pia")
    private = started_private_chat(emu, reader)
    sent = await emu.send_message(reader, "/subscribe")
    await emu.wait_for_bot_message(private, after=sent.message_id, timeout=10)

    reply = await _ask(running_bot, "/stats")
    assert reply.photo_sizes
    assert png_size(emu.file_bytes(reply)) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    async with running_bot.db.transaction() as session:
        numbers = await stats.bot_stats(
            session, day_start=utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        )
    assert reply.text == render_stats(numbers)


def _final_charts(running_bot: RunningBot, chat: SimChat) -> list[SimMessage]:
    return [
        m
        for m in running_bot.emulator.bot_messages(chat)
        if m.photo_sizes and (m.text or "").startswith("🔒 Final results")
    ]


async def test_closing_a_poll_sends_its_chart_to_the_admin_and_channel(
    running_bot: RunningBot,
) -> None:
    """/closepoll: the admin gets the final results chart, the channel copy gets it as a reply,
    the group and private copies do not."""
    emu = running_bot.emulator
    desk = await desk_with_copies(running_bot)
    await _votes_and_reactions(running_bot, desk)
    admin_chat = started_private_chat(emu, running_bot.admin)
    await _ask(running_bot, "/start")

    await emu.send_message(running_bot.admin, f"/closepoll {desk.poll_id}")
    mine = await emu.wait_for(lambda: _final_charts(running_bot, admin_chat), timeout=15)
    theirs = await emu.wait_for(lambda: _final_charts(running_bot, desk.channel), timeout=15)
    assert len(mine) == len(theirs) == 1
    assert png_size(emu.file_bytes(mine[0])) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert theirs[0].reply_to is desk.channel_card
    assert "(3 votes)" in (theirs[0].text or "")
    assert _final_charts(running_bot, desk.group) == []
    assert _final_charts(running_bot, desk.private) == []


async def test_a_poll_closing_on_time_sends_its_chart(running_bot: RunningBot) -> None:
    """A poll whose closing time comes sends its chart to the channel copy; a poll closed
    without votes tells the admin there is nothing to plot."""
    emu = running_bot.emulator
    desk = await desk_with_copies(running_bot)
    await _votes_and_reactions(running_bot, desk)
    admin_chat = started_private_chat(emu, running_bot.admin)
    await _ask(running_bot, "/start")
    empty = await create_article_poll(running_bot.db)
    async with running_bot.db.transaction() as session:
        for poll_id in (desk.poll_id, empty):
            poll = await session.get(Poll, poll_id)
            assert poll is not None
            poll.closes_at = utcnow() - timedelta(seconds=1)
            session.add(poll)

    theirs = await emu.wait_for(lambda: _final_charts(running_bot, desk.channel), timeout=15)
    assert theirs[0].reply_to is desk.channel_card
    said = NO_VOTES.format(id=empty)
    await emu.wait_for(
        lambda: any(m.text == said for m in emu.bot_messages(admin_chat)),
        timeout=15,
        what="the no-votes line",
    )
    assert len(_final_charts(running_bot, admin_chat)) == 1
