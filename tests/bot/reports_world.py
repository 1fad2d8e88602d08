"""What the report behaviour tests share: a published article with a poll whose card the bot
posted in a private chat, a group and a channel (the bot admin in both), and the numbers read
back from the database."""

from __future__ import annotations

from dataclasses import dataclass

from harness import RunningBot, stored_chat, wait_until
from polls_support import create_article_poll, post_poll_card, started_private_chat

from emulator.simulation import SimChat, SimMessage, SimUser
from newsroom.engagement import ArticleEngagement
from storage import engagement, polls
from storage.models import Article, ArticleStatus
from storage.types import utcnow


@dataclass
class Desk:
    """An article with a poll, shown in three chats, and the readers there."""

    article_id: int
    poll_id: int
    readers: list[SimUser]
    owner: SimUser
    private: SimChat
    group: SimChat
    channel: SimChat
    private_card: SimMessage
    group_card: SimMessage
    channel_card: SimMessage


async def publish_article(running_bot: RunningBot, poll_id: int) -> int:
    """Marks the poll's article published now; returns its id."""
    async with running_bot.db.transaction() as session:
        record = await polls.poll_record(session, poll_id=poll_id)
        assert record is not None
        assert record.article_id is not None
        article = await session.get(Article, record.article_id)
        assert article is not None
        article.status = ArticleStatus.PUBLISHED
        article.pushed_at = utcnow()
        session.add(article)
        return record.article_id


async def desk_with_copies(running_bot: RunningBot) -> Desk:
    emu = running_bot.emulator
    owner = emu.create_user("Gus")
    readers = [emu.create_user(f"Reader {n}") for n in range(4)]
    group = emu.create_group("Riverside neighbours", creator=owner, members=readers)
    channel = emu.create_channel("City Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner, admin=True)
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    for chat in (group, channel):
        await wait_until(lambda c=chat: stored_chat(running_bot, c.id), what="the chat stored")
    poll_id = await create_article_poll(running_bot.db, options=("Yes", "No", "Maybe"))
    article_id = await publish_article(running_bot, poll_id)
    private = started_private_chat(emu, readers[0])
    return Desk(
        article_id=article_id,
        poll_id=poll_id,
        readers=readers,
        owner=owner,
        private=private,
        group=group,
        channel=channel,
        private_card=await post_poll_card(running_bot, private, poll_id),
        group_card=await post_poll_card(running_bot, group, poll_id),
        channel_card=await post_poll_card(running_bot, channel, poll_id),
    )


async def stored_engagement(running_bot: RunningBot, article_id: int) -> ArticleEngagement:
    async with running_bot.db.transaction() as session:
        found = await engagement.article_engagement(
            session, article_id=article_id, clicks_tracked=False
        )
    assert found is not None
    return found
