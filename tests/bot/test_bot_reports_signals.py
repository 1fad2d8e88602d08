"""The signals a report is made of, through the emulator: reactions on every copy the bot
delivered (counts replaced, never added), inline shares chosen and deep-link opens."""

from __future__ import annotations

import pytest
from harness import RunningBot, wait_until
from polls_support import create_article_poll, started_private_chat
from reports_world import desk_with_copies, publish_article, stored_engagement
from sqlmodel import col, select

from emulator.reactions import PAID, custom_emoji
from newsroom.engagement import ReactionCount, ReactionKind
from storage.models import ArticleEvent, ArticleEventKind, ChatKind, CopyReactionCount

# Conversations with the bot, about what it answers and stores, not about their pace.
pytestmark = pytest.mark.quick_private_chats


async def _copy_counts(
    running_bot: RunningBot, chat_id: int, message_id: int
) -> dict[tuple[str, str], int]:
    async with running_bot.db.transaction() as session:
        rows = await session.exec(
            select(CopyReactionCount).where(
                col(CopyReactionCount.chat_id) == chat_id,
                col(CopyReactionCount.message_id) == message_id,
            )
        )
        return {(row.kind.value, row.key): row.count for row in rows}


async def test_reactions_are_counted_per_copy_and_emoji(running_bot: RunningBot) -> None:
    """Reactions in a private chat, a group and a channel are stored per copy and emoji; a
    changed or withdrawn reaction replaces the count (never adds to it); custom and paid
    reactions are their own kinds; a reaction on a message the bot never sent is ignored."""
    emu = running_bot.emulator
    desk = await desk_with_copies(running_bot)
    ann, bob, cai, dan = desk.readers

    await emu.react(ann, desk.private, desk.private_card.message_id, ["👍"])
    await emu.react(ann, desk.group, desk.group_card.message_id, ["👍"])
    await emu.react(bob, desk.group, desk.group_card.message_id, ["👍"])
    await emu.react(cai, desk.group, desk.group_card.message_id, ["🔥"])

    group_copy = (desk.group.id, desk.group_card.message_id)

    async def group_counted() -> bool:
        return await _copy_counts(running_bot, *group_copy) == {
            ("emoji", "👍"): 2,
            ("emoji", "🔥"): 1,
        }

    await wait_until(group_counted, timeout=10, what="the group copy's reactions")
    # Bob changes his mind, Cai takes his back: the copy's counts are replaced.
    await emu.react(bob, desk.group, desk.group_card.message_id, ["❤"])
    await emu.react(cai, desk.group, desk.group_card.message_id, [])

    async def group_recounted() -> bool:
        return await _copy_counts(running_bot, *group_copy) == {
            ("emoji", "👍"): 1,
            ("emoji", "❤"): 1,
        }

    await wait_until(group_recounted, timeout=10, what="the group copy's new reactions")

    channel_copy = (desk.channel.id, desk.channel_card.message_id)
    await emu.react(ann, desk.channel, desk.channel_card.message_id, ["👍"])
    await emu.react(bob, desk.channel, desk.channel_card.message_id, ["👍", PAID])
    await emu.react(dan, desk.channel, desk.channel_card.message_id, [custom_emoji("5368324170")])
    await emu.react(ann, desk.channel, desk.channel_card.message_id, ["🔥"])

    async def channel_counted() -> bool:
        return await _copy_counts(running_bot, *channel_copy) == {
            ("emoji", "👍"): 1,
            ("emoji", "🔥"): 1,
            ("paid", "paid"): 1,
            ("custom", "5368324170"): 1,
        }

    await wait_until(channel_counted, timeout=10, what="the channel copy's counts")

    # A reader's own message in the group: not a copy of ours, so nothing is stored for it.
    own = await emu.send_message(dan, "Nice one", chat=desk.group)
    await emu.react(ann, desk.group, own.message_id, ["👍"])
    # Then one more reaction on the card: once it is stored, the one before it was handled.
    await emu.react(dan, desk.group, desk.group_card.message_id, ["👍"])

    async def last_counted() -> bool:
        counts = await _copy_counts(running_bot, *group_copy)
        return counts.get(("emoji", "👍")) == 2

    await wait_until(last_counted, timeout=10, what="the last group reaction")
    assert await _copy_counts(running_bot, desk.group.id, own.message_id) == {}

    numbers = await stored_engagement(running_bot, desk.article_id)
    assert set(numbers.reactions) == {
        ReactionCount(ReactionKind.EMOJI, "👍", 4),
        ReactionCount(ReactionKind.EMOJI, "❤", 1),
        ReactionCount(ReactionKind.EMOJI, "🔥", 1),
        ReactionCount(ReactionKind.PAID, "paid", 1),
        ReactionCount(ReactionKind.CUSTOM, "5368324170", 1),
    }


async def _events(running_bot: RunningBot, article_id: int) -> list[tuple[str, str | None]]:
    async with running_bot.db.transaction() as session:
        rows = await session.exec(
            select(ArticleEvent).where(col(ArticleEvent.article_id) == article_id)
        )
        return sorted(
            (row.kind.value, row.chat_kind.value if row.chat_kind else None) for row in rows
        )


async def test_shares_and_opens_are_counted(running_bot: RunningBot) -> None:
    """A card chosen in inline mode counts a share, `/start a_<id>` an open (with the chat's
    kind); a deep link to an article that does not exist counts nothing."""
    emu = running_bot.emulator
    reader = emu.create_user("Lena")
    friend = emu.create_user("Mo")
    poll_id = await create_article_poll(running_bot.db)
    article_id = await publish_article(running_bot, poll_id)
    private = started_private_chat(emu, reader)

    answer = await emu.inline_query(reader, f"a_{article_id}")
    await emu.choose_inline_result(
        reader, answer, str(answer.results[0]["id"]), chat=emu.private_chat(friend)
    )
    opened = await emu.send_message(reader, f"/start a_{article_id}")
    await emu.wait_for_bot_message(private, after=opened.message_id, timeout=10)
    stale = await emu.send_message(reader, "/start a_987654")
    await emu.wait_for_bot_message(private, after=stale.message_id, timeout=10)

    async def counted() -> list[tuple[str, str | None]] | None:
        events = await _events(running_bot, article_id)
        return events if len(events) == 2 else None

    events = await wait_until(counted, timeout=10, what="the share and the open")
    assert events == [
        (ArticleEventKind.OPEN.value, ChatKind.PRIVATE.value),
        (ArticleEventKind.SHARE.value, None),
    ]
    numbers = await stored_engagement(running_bot, article_id)
    assert (numbers.shares, numbers.opens) == (1, 1)
    async with running_bot.db.transaction() as session:
        everything = (await session.exec(select(ArticleEvent))).all()
    assert {event.article_id for event in everything} == {article_id}
