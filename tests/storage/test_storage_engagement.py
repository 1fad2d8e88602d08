"""Engagement signals in storage: reactions per copy (replaced, never added), users' reactions,
shares, opens, autocards and clicks per article, subscription events and the subscriber
history, tracked link codes, and the numbers an editor's report is made of."""

from __future__ import annotations

import asyncio
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from newsroom.article import ArticleDraft, PollDraft
from newsroom.engagement import ChatReach, PerChat, ReactionCount, ReactionKind
from storage import articles, broadcasts, chats, deliveries, engagement, polls, votes
from storage.deliveries import EndedRow, SentRow
from storage.engine import Database
from storage.models import (
    ArticleEventKind,
    ChatKind,
    CopyReactionCount,
    DeliveryStatus,
    StopReason,
    SubscriptionEvent,
    UserReaction,
)
from storage.types import utcnow
from storage.votes import Choice, Voter

READER = 1001
OTHER_READER = 1002
THIRD_READER = 1003
GROUP = -4_000_001
SUPERGROUP = -1_001_000_000_002
CHANNEL = -1_001_000_000_001
BLOCKED_READER = 1009

THUMBS = (ReactionKind.EMOJI, "👍")
HEART = (ReactionKind.EMOJI, "❤")
FIRE = (ReactionKind.EMOJI, "🔥")
CUSTOM_ID = "5368324170671202286"


def _count(reaction: tuple[ReactionKind, str], count: int) -> ReactionCount:
    return ReactionCount(kind=reaction[0], key=reaction[1], count=count)


@dataclass
class Published:
    """An article the bot published: its id, its poll's option ids, the copies it sent."""

    article_id: int
    option_ids: tuple[int, ...] = ()
    poll_id: int | None = None
    copies: dict[int, int] = field(default_factory=dict)  # chat id -> message id


async def _subscribe(db: Database, chat_id: int, kind: ChatKind, title: str | None) -> None:
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=chat_id, kind=kind, title=title)
        await chats.subscribe_chat(session, chat_id=chat_id)


async def _publish(
    db: Database, slug: str, *, outcomes: dict[int, int | str], with_poll: bool = True
) -> Published:
    """Publish an article to every subscriber and record each send: a message id, or the
    failure Telegram gave."""
    draft = ArticleDraft(
        title=f"Story {slug}",
        url=f"https://news.example/{slug}",
        poll=PollDraft(question="Agree?", options=("Yes", "No", "Not sure"))
        if with_poll
        else None,
    )
    async with db.transaction() as session:
        article = (await articles.store_article(session, draft=draft)).article
        assert article.id is not None
        await articles.mark_published(session, article_id=article.id)
        await deliveries.queue_article(session, article_id=article.id)
        published = Published(article.id)
        if (poll := await polls.poll_for_article(session, article_id=article.id)) is not None:
            assert poll.id is not None
            record = await polls.poll_record(session, poll_id=poll.id)
            assert record is not None
            published.poll_id, published.option_ids = poll.id, record.option_ids
    async with db.transaction() as session:
        claimed = await deliveries.claim_due(session, limit=100)
        sent = [
            SentRow(row.id, message_id)
            for row in claimed
            if isinstance(message_id := outcomes[row.chat_id], int)
        ]
        failed = [
            EndedRow(row.id, DeliveryStatus.FAILED, failure)
            for row in claimed
            if isinstance(failure := outcomes[row.chat_id], str)
        ]
        await deliveries.mark_sent(session, rows=sent)
        await deliveries.end_rows(session, rows=failed)
    published.copies = {
        chat_id: message_id
        for chat_id, message_id in outcomes.items()
        if isinstance(message_id, int)
    }
    return published


async def _vote(db: Database, published: Published, choices: dict[int, tuple[int, int]]) -> None:
    """Each reader (user id) chooses option number `n` in chat `chat_id`: {user: (n, chat)}."""
    assert published.poll_id is not None
    poll_id = published.poll_id
    async with db.transaction() as session:
        await votes.upsert_voters(
            session, voters=[Voter(user_id=user, first_name=f"R{user}") for user in choices]
        )
        await votes.save_choices(
            session,
            choices={
                (poll_id, user): Choice(published.option_ids[option], chat_id)
                for user, (option, chat_id) in choices.items()
            },
        )


async def _reactions(db: Database, article_id: int) -> tuple[ReactionCount, ...]:
    async with db.transaction() as session:
        report = await engagement.article_engagement(
            session, article_id=article_id, clicks_tracked=False
        )
    assert report is not None
    return report.reactions


async def test_a_count_update_replaces_the_copys_reactions(db: Database) -> None:
    """The newest count update for a copy is its whole set: counts are replaced, not added to,
    and a reaction missing from the update is gone; copies in other chats add up."""
    await _subscribe(db, CHANNEL, ChatKind.CHANNEL, "Harbour News")
    await _subscribe(db, SUPERGROUP, ChatKind.SUPERGROUP, "Harbour Readers")
    story = await _publish(db, "ferry", outcomes={CHANNEL: 70, SUPERGROUP: 80})
    async with db.transaction() as session:
        assert await engagement.record_reaction_count(
            session,
            chat_id=CHANNEL,
            message_id=70,
            reactions=[_count(THUMBS, 3), _count(HEART, 1)],
        )
    async with db.transaction() as session:
        assert await engagement.record_reaction_count(
            session, chat_id=CHANNEL, message_id=70, reactions=[_count(THUMBS, 5)]
        )
        assert await engagement.record_reaction_count(
            session, chat_id=SUPERGROUP, message_id=80, reactions=[_count(THUMBS, 2)]
        )
    assert await _reactions(db, story.article_id) == (_count(THUMBS, 7),)

    async with db.transaction() as session:
        assert await engagement.record_reaction_count(
            session, chat_id=CHANNEL, message_id=70, reactions=[]
        )
    assert await _reactions(db, story.article_id) == (_count(THUMBS, 2),)


async def test_custom_and_paid_reactions_are_counted_as_their_own_kinds(db: Database) -> None:
    """An emoji, a custom emoji (by its id) and paid stars are three separate counts."""
    await _subscribe(db, CHANNEL, ChatKind.CHANNEL, "Harbour News")
    story = await _publish(db, "ferry", outcomes={CHANNEL: 70})
    async with db.transaction() as session:
        await engagement.record_reaction_count(
            session,
            chat_id=CHANNEL,
            message_id=70,
            reactions=[
                _count(THUMBS, 4),
                ReactionCount(ReactionKind.CUSTOM, CUSTOM_ID, 2),
                ReactionCount(ReactionKind.PAID, "paid", 9),
            ],
        )
    assert await _reactions(db, story.article_id) == (
        ReactionCount(ReactionKind.PAID, "paid", 9),
        _count(THUMBS, 4),
        ReactionCount(ReactionKind.CUSTOM, CUSTOM_ID, 2),
    )


async def test_reactions_on_messages_the_bot_never_sent_an_article_in_are_ignored(
    db: Database,
) -> None:
    """A message the bot never delivered, a failed delivery and a broadcast are not article
    copies: both kinds of reaction update say False and store nothing."""
    await _subscribe(db, READER, ChatKind.PRIVATE, "Rita")
    await _subscribe(db, BLOCKED_READER, ChatKind.PRIVATE, "Bo")
    await _publish(db, "ferry", outcomes={READER: 50, BLOCKED_READER: "blocked"})
    async with db.transaction() as session:
        broadcast = await broadcasts.create_broadcast(session, author_id=READER, html="Hello")
        assert broadcast.id is not None
        await deliveries.queue_broadcast(session, broadcast_id=broadcast.id)
    async with db.transaction() as session:
        claimed = await deliveries.claim_due(session, limit=10)
        await deliveries.mark_sent(session, rows=[SentRow(row.id, 60) for row in claimed])

    async with db.transaction() as session:
        for chat_id, message_id in ((READER, 999), (READER, 60), (BLOCKED_READER, 50)):
            assert not await engagement.record_reaction_count(
                session, chat_id=chat_id, message_id=message_id, reactions=[_count(THUMBS, 1)]
            )
            assert not await engagement.record_user_reaction(
                session,
                chat_id=chat_id,
                message_id=message_id,
                user_id=READER,
                reactions=[THUMBS],
            )
        stored = (await session.exec(select(sa.func.count()).select_from(CopyReactionCount))).one()
        by_users = (await session.exec(select(sa.func.count()).select_from(UserReaction))).one()
    assert (stored, by_users) == (0, 0)


async def test_users_reactions_make_the_copys_counts(db: Database) -> None:
    """Where Telegram names who reacted, each user's update replaces their reactions and the
    copy counts what its users hold now; the poll's own message is a copy too."""
    await _subscribe(db, READER, ChatKind.PRIVATE, "Rita")
    await _subscribe(db, GROUP, ChatKind.GROUP, "Harbour Club")
    story = await _publish(db, "ferry", outcomes={READER: 50, GROUP: 51})
    assert story.poll_id is not None
    async with db.transaction() as session:
        # A card whose poll went out as its own message: that message shows the article too.
        await polls.register_poll_message(
            session, poll_id=story.poll_id, chat_id=GROUP, message_id=52
        )

    async def react(
        chat_id: int, message_id: int, user: int, *held: tuple[ReactionKind, str]
    ) -> None:
        async with db.transaction() as session:
            assert await engagement.record_user_reaction(
                session, chat_id=chat_id, message_id=message_id, user_id=user, reactions=held
            )

    await react(READER, 50, READER, THUMBS)
    await react(GROUP, 51, READER, THUMBS)
    await react(GROUP, 51, OTHER_READER, THUMBS, HEART)
    await react(GROUP, 52, THIRD_READER, HEART)
    assert await _reactions(db, story.article_id) == (_count(THUMBS, 3), _count(HEART, 2))

    await react(GROUP, 51, READER, FIRE)
    await react(GROUP, 51, OTHER_READER)
    await react(GROUP, 51, THIRD_READER, FIRE, FIRE)
    assert await _reactions(db, story.article_id) == (
        _count(FIRE, 2),
        _count(HEART, 1),
        _count(THUMBS, 1),
    )
    async with db.transaction() as session:
        held = (
            await session.exec(
                select(UserReaction.user_id, UserReaction.key)
                .where(col(UserReaction.message_id) == 51)
                .order_by(col(UserReaction.user_id))
            )
        ).all()
    assert held == [(READER, "🔥"), (THIRD_READER, "🔥")]


async def test_events_are_counted_per_article(db: Database) -> None:
    """Shares, opens, autocards and clicks count for their own article only; clicks show only
    when tracked; an event for an unknown article is refused."""
    first = await _publish(db, "ferry", outcomes={})
    second = await _publish(db, "gulls", outcomes={})
    async with db.transaction() as session:
        for kind, chat_kind, times in (
            (ArticleEventKind.SHARE, None, 3),
            (ArticleEventKind.OPEN, ChatKind.PRIVATE, 2),
            (ArticleEventKind.AUTOCARD, ChatKind.GROUP, 1),
            (ArticleEventKind.CLICK, ChatKind.CHANNEL, 4),
        ):
            for _ in range(times):
                assert await engagement.record_event(
                    session, article_id=first.article_id, kind=kind, chat_kind=chat_kind
                )
        assert await engagement.record_event(
            session, article_id=second.article_id, kind=ArticleEventKind.SHARE
        )
        assert not await engagement.record_event(
            session, article_id=9999, kind=ArticleEventKind.OPEN
        )
        tracked = await engagement.article_engagement(
            session, article_id=first.article_id, clicks_tracked=True
        )
        untracked = await engagement.article_engagement(
            session, article_id=second.article_id, clicks_tracked=False
        )
        unknown = await engagement.article_engagement(
            session, article_id=9999, clicks_tracked=True
        )
    assert tracked is not None
    assert untracked is not None
    assert (tracked.shares, tracked.opens, tracked.autocards, tracked.clicks) == (3, 2, 1, 4)
    assert (untracked.shares, untracked.opens, untracked.autocards, untracked.clicks) == (
        1,
        0,
        0,
        None,
    )
    assert unknown is None


async def test_engagement_numbers_match_what_was_stored(db: Database) -> None:
    """Reach by chat kind (sent, failed, blocked), the poll's split and voters, the two time
    curves, reactions, and per chat counts with every private chat folded into one row."""
    await _subscribe(db, READER, ChatKind.PRIVATE, "Rita Reader")
    await _subscribe(db, OTHER_READER, ChatKind.PRIVATE, "Otto Reader")
    await _subscribe(db, BLOCKED_READER, ChatKind.PRIVATE, "Bo Blocked")
    await _subscribe(db, GROUP, ChatKind.GROUP, "Harbour Club")
    await _subscribe(db, CHANNEL, ChatKind.CHANNEL, "Harbour News")
    await _subscribe(db, SUPERGROUP, ChatKind.SUPERGROUP, "Quiet Readers")
    story = await _publish(
        db,
        "ferry",
        outcomes={
            READER: 50,
            OTHER_READER: 51,
            BLOCKED_READER: "blocked",
            GROUP: 52,
            CHANNEL: 53,
            SUPERGROUP: "bad_markup",
        },
    )
    await _vote(
        db,
        story,
        {
            READER: (0, READER),
            OTHER_READER: (1, OTHER_READER),
            2001: (0, GROUP),
            2002: (0, GROUP),
            2003: (2, CHANNEL),
            2004: (1, CHANNEL),
        },
    )
    async with db.transaction() as session:
        await engagement.record_user_reaction(
            session, chat_id=READER, message_id=50, user_id=READER, reactions=[THUMBS]
        )
        await engagement.record_user_reaction(
            session, chat_id=OTHER_READER, message_id=51, user_id=OTHER_READER, reactions=[HEART]
        )
        await engagement.record_reaction_count(
            session, chat_id=CHANNEL, message_id=53, reactions=[_count(THUMBS, 6)]
        )
        report = await engagement.article_engagement(
            session, article_id=story.article_id, clicks_tracked=False
        )
    assert report is not None
    assert report.title == "Story ferry"
    assert report.published_at is not None
    assert report.reach == (
        ChatReach("private", sent=2, failed=0, blocked=1),
        ChatReach("group", sent=1, failed=0, blocked=0),
        ChatReach("supergroup", sent=0, failed=1, blocked=0),
        ChatReach("channel", sent=1, failed=0, blocked=0),
    )
    assert report.reached == 4
    assert (report.question, report.options) == ("Agree?", ("Yes", "No", "Not sure"))
    assert (report.option_counts, report.voters) == ((3, 2, 1), 6)
    assert len(report.vote_times) == 6
    assert len(report.delivery_times) == 4
    assert all(report.published_at <= moment for moment in report.delivery_times)
    assert report.reactions == (_count(THUMBS, 7), _count(HEART, 1))
    # The busiest first: by votes, then by reactions.
    assert report.per_chat == (
        PerChat("Harbour News", "channel", votes=2, reactions=6),
        PerChat("Private chats", "private", votes=2, reactions=2),
        PerChat("Harbour Club", "group", votes=2, reactions=0),
    )
    assert all("Reader" not in row.title for row in report.per_chat)


async def test_an_article_without_a_poll_reports_reach_and_no_question(db: Database) -> None:
    """No poll: no question, no options, no voters; the reach is still counted."""
    await _subscribe(db, READER, ChatKind.PRIVATE, "Rita")
    story = await _publish(db, "notice", outcomes={READER: 50}, with_poll=False)
    async with db.transaction() as session:
        report = await engagement.article_engagement(
            session, article_id=story.article_id, clicks_tracked=False
        )
    assert report is not None
    assert (report.question, report.options, report.voters, report.vote_times) == (
        None,
        (),
        0,
        (),
    )
    assert report.reach == (ChatReach("private", sent=1, failed=0, blocked=0),)


async def test_week_summaries_give_one_row_per_article_published_since(db: Database) -> None:
    """Articles the bot published since the date, oldest first, with reach, voters, reactions
    and shares; an older article is left out."""
    await _subscribe(db, READER, ChatKind.PRIVATE, "Rita")
    await _subscribe(db, CHANNEL, ChatKind.CHANNEL, "Harbour News")
    old = await _publish(db, "old", outcomes={READER: 40, CHANNEL: 41})
    ferry = await _publish(db, "ferry", outcomes={READER: 50, CHANNEL: 51})
    gulls = await _publish(db, "gulls", outcomes={READER: 60, CHANNEL: "kicked"})
    async with db.transaction() as session:
        await articles.mark_published(
            session, article_id=old.article_id, at=utcnow() - timedelta(days=9)
        )
    await _vote(db, ferry, {READER: (0, READER), 2001: (1, CHANNEL)})
    await _vote(db, gulls, {READER: (2, READER)})
    async with db.transaction() as session:
        await engagement.record_reaction_count(
            session,
            chat_id=CHANNEL,
            message_id=51,
            reactions=[_count(THUMBS, 4), _count(HEART, 1)],
        )
        await engagement.record_event(
            session, article_id=gulls.article_id, kind=ArticleEventKind.SHARE
        )
        await engagement.record_event(
            session, article_id=old.article_id, kind=ArticleEventKind.SHARE
        )
        week = await engagement.week_summaries(session, since=utcnow() - timedelta(days=7))
    assert [(row.title, row.reached, row.voters, row.reactions, row.shares) for row in week] == [
        ("Story ferry", 2, 2, 5, 0),
        ("Story gulls", 1, 1, 0, 1),
    ]
    assert [row.article_id for row in week] == [ferry.article_id, gulls.article_id]


async def test_subscribing_and_stopping_record_subscription_events(db: Database) -> None:
    """Each start and stop of pushes is one event in the same transaction: a repeated
    subscribe, a second stop, or unsubscribing a chat that had blocked the bot adds none."""
    async with db.transaction() as session:
        await chats.upsert_chat(session, chat_id=READER, kind=ChatKind.PRIVATE, title="Rita")
        await chats.subscribe_chat(session, chat_id=READER)
        await chats.subscribe_chat(session, chat_id=READER)
        await chats.mark_chat_stopped(session, chat_id=READER, reason=StopReason.BLOCKED)
        await chats.mark_chat_stopped(session, chat_id=READER, reason=StopReason.BLOCKED)
        await chats.unsubscribe_chat(session, chat_id=READER)
        await chats.subscribe_chat(session, chat_id=READER)
        await chats.unsubscribe_chat(session, chat_id=READER)
        await chats.upsert_chat(session, chat_id=GROUP, kind=ChatKind.GROUP, title="Club")
        await chats.subscribe_chat(session, chat_id=GROUP)
        await chats.migrate_chat(session, old_id=GROUP, new_id=SUPERGROUP)
        events = (
            await session.exec(
                select(
                    SubscriptionEvent.chat_id,
                    SubscriptionEvent.chat_kind,
                    SubscriptionEvent.subscribed,
                ).order_by(col(SubscriptionEvent.id))
            )
        ).all()
    assert events == [
        (READER, ChatKind.PRIVATE, True),
        (READER, ChatKind.PRIVATE, False),
        (READER, ChatKind.PRIVATE, True),
        (READER, ChatKind.PRIVATE, False),
        (GROUP, ChatKind.GROUP, True),
        (GROUP, ChatKind.GROUP, False),
        (SUPERGROUP, ChatKind.SUPERGROUP, True),
    ]


async def _move_events(db: Database, chat_id: int, *moments: datetime) -> None:
    """Date the chat's events (oldest first) as if they had happened at `moments`."""
    async with db.transaction() as session:
        ids = (
            await session.exec(
                select(SubscriptionEvent.id)
                .where(col(SubscriptionEvent.chat_id) == chat_id)
                .order_by(col(SubscriptionEvent.id))
            )
        ).all()
        assert len(ids) == len(moments)
        for event_id, moment in zip(ids, moments, strict=True):
            await session.exec(
                sa.update(SubscriptionEvent)
                .where(col(SubscriptionEvent.id) == event_id)
                .values(at=moment)
            )


async def test_subscriber_history_counts_back_through_the_events(db: Database) -> None:
    """Each day's subscribers by kind follow the subscribe and unsubscribe events; a chat
    subscribed before events were recorded counts on every day."""
    now = utcnow()
    today = datetime.combine(now.date(), time(), tzinfo=UTC)
    await _subscribe(db, READER, ChatKind.PRIVATE, "Rita")
    async with db.transaction() as session:
        # As if it had subscribed before events were recorded.
        await session.exec(
            sa.delete(SubscriptionEvent).where(col(SubscriptionEvent.chat_id) == READER)
        )
    await _subscribe(db, CHANNEL, ChatKind.CHANNEL, "Harbour News")
    async with db.transaction() as session:
        await chats.mark_chat_stopped(session, chat_id=CHANNEL, reason=StopReason.KICKED)
    await _move_events(
        db, CHANNEL, today - timedelta(days=3, hours=-10), today - timedelta(days=1, hours=-9)
    )
    await _subscribe(db, GROUP, ChatKind.GROUP, "Harbour Club")
    await _move_events(db, GROUP, today - timedelta(days=2, hours=-12))
    await _subscribe(db, OTHER_READER, ChatKind.PRIVATE, "Otto")
    async with db.transaction() as session:
        await chats.unsubscribe_chat(session, chat_id=OTHER_READER)
        history = await engagement.subscriber_history(session, days=4, now=utcnow())

    assert [day.day for day in history] == [today - timedelta(days=n) for n in (3, 2, 1, 0)]
    assert [day.by_kind for day in history] == [
        {"private": 1, "group": 0, "supergroup": 0, "channel": 1},
        {"private": 1, "group": 1, "supergroup": 0, "channel": 1},
        {"private": 1, "group": 1, "supergroup": 0, "channel": 0},
        {"private": 1, "group": 1, "supergroup": 0, "channel": 0},
    ]


async def test_subscriber_history_follows_a_group_into_its_supergroup(db: Database) -> None:
    """A subscribed group that becomes a supergroup counts as a group before and as a
    supergroup after, never twice and never missing."""
    now = utcnow()
    today = datetime.combine(now.date(), time(), tzinfo=UTC)
    await _subscribe(db, GROUP, ChatKind.GROUP, "Harbour Club")
    async with db.transaction() as session:
        await session.exec(
            sa.delete(SubscriptionEvent).where(col(SubscriptionEvent.chat_id) == GROUP)
        )
        await chats.migrate_chat(session, old_id=GROUP, new_id=SUPERGROUP)
    moved = today - timedelta(days=1, hours=-8)
    await _move_events(db, GROUP, moved)
    await _move_events(db, SUPERGROUP, moved)
    async with db.transaction() as session:
        history = await engagement.subscriber_history(session, days=3, now=utcnow())
    assert [(day.by_kind["group"], day.by_kind["supergroup"]) for day in history] == [
        (1, 0),
        (0, 1),
        (0, 1),
    ]


async def test_subscriber_history_needs_an_aware_now(db: Database) -> None:
    """Days begin at midnight in `now`'s time zone, so a naive `now` is refused."""
    async with db.transaction() as session:
        with pytest.raises(ValueError, match="aware"):
            await engagement.subscriber_history(session, days=3, now=datetime(2026, 1, 1))  # noqa: DTZ001


async def test_link_codes_are_stable_unguessable_and_resolve(db: Database) -> None:
    """One code per article and chat kind, the same on every call; codes are random
    URL-safe text; each resolves to its article, a click is counted with its chat kind, and
    an unknown code or article is refused."""
    ferry = await _publish(db, "ferry", outcomes={})
    gulls = await _publish(db, "gulls", outcomes={})
    async with db.transaction() as session:
        private = await engagement.link_code(
            session, article_id=ferry.article_id, chat_kind=ChatKind.PRIVATE
        )
        group = await engagement.link_code(
            session, article_id=ferry.article_id, chat_kind=ChatKind.GROUP
        )
        inline = await engagement.link_code(session, article_id=ferry.article_id, chat_kind=None)
        other = await engagement.link_code(
            session, article_id=gulls.article_id, chat_kind=ChatKind.PRIVATE
        )
    async with db.transaction() as session:
        again = [
            await engagement.link_code(session, article_id=ferry.article_id, chat_kind=kind)
            for kind in (ChatKind.PRIVATE, ChatKind.GROUP, None)
        ]
        resolved = [
            await engagement.article_for_code(session, code=code)
            for code in (private, group, inline, other, "nosuchcode", "x" * 200, "")
        ]
        clicked = await engagement.record_click(session, code=group)
        missed = await engagement.record_click(session, code="nosuchcode")
        report = await engagement.article_engagement(
            session, article_id=ferry.article_id, clicks_tracked=True
        )
        with pytest.raises(engagement.UnknownArticleError):
            await engagement.link_code(session, article_id=9999, chat_kind=ChatKind.PRIVATE)
    codes = {private, group, inline, other}
    assert again == [private, group, inline]
    assert len(codes) == 4
    assert all(
        len(code) == 8 and set(code) <= set(string.ascii_letters + string.digits + "-_")
        for code in codes
    )
    assert resolved == [ferry.article_id] * 3 + [gulls.article_id, None, None, None]
    assert (clicked, missed) == (ferry.article_id, None)
    assert report is not None
    assert report.clicks == 1


async def test_reactions_stored_at_once_on_one_copy_are_all_counted(db: Database) -> None:
    """Readers reacting to the same copy in transactions that overlap (several workers on
    PostgreSQL) are all counted: each update waits for the copy, none fails."""
    await _subscribe(db, GROUP, ChatKind.GROUP, "Harbour Club")
    story = await _publish(db, "ferry", outcomes={GROUP: 51})

    async def react(user: int) -> bool:
        async with db.transaction() as session:
            return await engagement.record_user_reaction(
                session, chat_id=GROUP, message_id=51, user_id=user, reactions=[THUMBS]
            )

    stored = await asyncio.gather(*(react(2000 + n) for n in range(8)))
    assert stored == [True] * 8
    assert await _reactions(db, story.article_id) == (_count(THUMBS, 8),)
