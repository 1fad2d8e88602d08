"""The engagement signals: reactions on the copies the bot delivered, shares, opens, autocards
and tracked clicks per article, subscription events, tracked link codes; and the numbers an
editor's report is made of (`newsroom.engagement`), counted in SQL.

Reactions. A copy is one message the bot sent that shows an article: a sent delivery (the
ledger keeps its chat and message id) or a message showing the article's poll. Which article a
copy shows is resolved when a reaction is stored; reactions on any other message (one the bot
never sent, a broadcast, a poll without an article) are ignored and the function says False.
Every update sets the copy's counts as a whole, never adds to them:

- a count update (``message_reaction_count``: channels, where reactions are anonymous) sets
  them to its numbers; a reaction missing from it is gone;
- a user's update (``message_reaction``: private chats and groups, where Telegram names who
  reacted) replaces that user's reactions, and the copy's counts become the sum of the
  reactions its users have now.

Telegram sends one kind or the other for a chat, so a copy is counted one way. Custom emoji
and paid (star) reactions are counted as their own kinds.

Subscription events are recorded by `storage.chats` whenever a chat starts or stops receiving
pushes; the subscriber history counts back from the chats receiving them now, so chats
subscribed before events were recorded count as subscribed throughout.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from newsroom.engagement import (
    ArticleEngagement,
    ArticleSummary,
    ChatReach,
    PerChat,
    ReactionCount,
    ReactionKind,
    SubscriberDay,
)
from storage.deliveries import CHAT_INACTIVE
from storage.models import (
    Article,
    ArticleEvent,
    ArticleEventKind,
    Chat,
    ChatKind,
    CopyReactionCount,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    LinkCode,
    Poll,
    PollMessage,
    PollOption,
    StopReason,
    SubscriptionEvent,
    UserReaction,
    Vote,
)
from storage.types import utcnow

# The title of the one per-chat row that stands for all private chats: their titles are
# readers' names, which the export never shows.
PRIVATE_CHATS_TITLE = "Private chats"

# Delivery failures that mean the chat blocked or removed the bot (the values of
# bot.telegram.errors.UNREACHABLE, which are StopReason's), or had stopped before its turn.
_BLOCKED_FAILURES = frozenset(
    {StopReason.BLOCKED, StopReason.KICKED, StopReason.CHAT_NOT_FOUND, CHAT_INACTIVE}
)

# Longer than any code `link_code` makes: anything longer is not looked up.
_CODE_LENGTH = 16
_CODE_TRIES = 5


class UnknownArticleError(LookupError):
    """No article has this id."""


# --- reactions ---------------------------------------------------------------------------


# A message the bot sent: (chat id, message id).
CopyKey = tuple[int, int]


@dataclass(frozen=True)
class CopyCounts:
    """A count update (``message_reaction_count``) for one message: its reactions now."""

    chat_id: int
    message_id: int
    reactions: Sequence[ReactionCount]


async def _articles_of_copies(
    session: AsyncSession, copies: Sequence[CopyKey]
) -> dict[CopyKey, int]:
    """The article each of the bot's messages shows, for those that show one (two lookups for
    all of them: the delivery ledger, then the poll messages).

    The rows found stay locked until the transaction ends (PostgreSQL; SQLite's writers take
    turns anyway), so overlapping updates of one copy replace its counts one after the other.
    """
    wanted = sorted(set(copies))
    delivered = (
        select(col(Delivery.chat_id), col(Delivery.message_id), col(Delivery.article_id))
        .where(
            sa.tuple_(col(Delivery.chat_id), col(Delivery.message_id)).in_(wanted),
            col(Delivery.kind) == DeliveryKind.ARTICLE,
            col(Delivery.status) == DeliveryStatus.SENT,
        )
        .with_for_update()
    )
    found: dict[CopyKey, int] = {}
    for chat_id, message_id, article_id in await session.exec(delivered):
        if article_id is not None and message_id is not None:
            found.setdefault((chat_id, message_id), article_id)
    rest = [copy for copy in wanted if copy not in found]
    if rest:
        shown = (
            select(col(PollMessage.chat_id), col(PollMessage.message_id), col(Poll.article_id))
            .join(Poll, col(PollMessage.poll_id) == col(Poll.id))
            .where(
                sa.tuple_(col(PollMessage.chat_id), col(PollMessage.message_id)).in_(rest),
                col(Poll.article_id).is_not(None),
            )
            .with_for_update(of=PollMessage)
        )
        for chat, message, article in await session.exec(shown):
            if article is not None and chat is not None and message is not None:
                found.setdefault((chat, message), article)
    return found


async def record_reaction_counts(
    session: AsyncSession, updates: Sequence[CopyCounts]
) -> list[bool]:
    """Store count updates, one per copy: each copy's reactions become exactly its update's
    (ones missing are removed; nothing is added to earlier counts). Says for each update
    whether it was stored: not when the message is no copy of an article the bot sent.
    A reaction listed twice counts both; counts below 1 are dropped."""
    articles = await _articles_of_copies(
        session, [(update.chat_id, update.message_id) for update in updates]
    )
    totals: dict[CopyKey, dict[tuple[ReactionKind, str], int]] = {}
    for update in updates:
        copy = (update.chat_id, update.message_id)
        if copy not in articles:
            continue
        counts: dict[tuple[ReactionKind, str], int] = defaultdict(int)
        for reaction in update.reactions:
            if reaction.count > 0:
                counts[reaction.kind, reaction.key] += reaction.count
        totals[copy] = counts
    await _replace_counts(session, articles=articles, totals=totals)
    return [(update.chat_id, update.message_id) in articles for update in updates]


async def record_reaction_count(
    session: AsyncSession, *, chat_id: int, message_id: int, reactions: Sequence[ReactionCount]
) -> bool:
    """`record_reaction_counts` for one copy: True when it was stored."""
    stored = await record_reaction_counts(session, [CopyCounts(chat_id, message_id, reactions)])
    return stored[0]


async def record_user_reaction(
    session: AsyncSession,
    *,
    chat_id: int,
    message_id: int,
    user_id: int,
    reactions: Sequence[tuple[ReactionKind, str]],
) -> bool:
    """Store one user's reactions on one copy (``message_reaction``'s ``new_reaction``: all the
    reactions the user has there now; empty when they took theirs back), then set the copy's
    counts to the sum over its users.

    `user_id` is the user's id, or the chat's (``actor_chat``) for a reaction made on behalf of
    a chat. Returns False, storing nothing, when the message is not a copy of an article the
    bot sent.
    """
    copy = (chat_id, message_id)
    article_id = (await _articles_of_copies(session, [copy])).get(copy)
    if article_id is None:
        return False
    now = utcnow()
    await session.exec(
        sa.delete(UserReaction).where(
            col(UserReaction.chat_id) == chat_id,
            col(UserReaction.message_id) == message_id,
            col(UserReaction.user_id) == user_id,
        )
    )
    # A set: the same reaction twice in one update is still one reaction of this user.
    held = sorted(set(reactions))
    if held:
        await session.exec(
            sa.insert(UserReaction),
            params=[
                {
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "user_id": user_id,
                    "kind": kind,
                    "key": key,
                    "article_id": article_id,
                    "updated_at": now,
                }
                for kind, key in held
            ],
        )
    rows = await session.exec(
        select(col(UserReaction.kind), col(UserReaction.key), sa.func.count())
        .where(col(UserReaction.chat_id) == chat_id, col(UserReaction.message_id) == message_id)
        .group_by(col(UserReaction.kind), col(UserReaction.key))
    )
    totals = {(ReactionKind(kind), key): count for kind, key, count in rows}
    await _replace_counts(session, articles={copy: article_id}, totals={copy: totals})
    return True


async def _replace_counts(
    session: AsyncSession,
    *,
    articles: Mapping[CopyKey, int],
    totals: Mapping[CopyKey, Mapping[tuple[ReactionKind, str], int]],
) -> None:
    """The copies' counts become `totals` (a copy with none: none left)."""
    if not totals:
        return
    await session.exec(
        sa.delete(CopyReactionCount).where(
            sa.tuple_(col(CopyReactionCount.chat_id), col(CopyReactionCount.message_id)).in_(
                sorted(totals)
            )
        )
    )
    now = utcnow()
    rows = [
        {
            "chat_id": chat_id,
            "message_id": message_id,
            "kind": kind,
            "key": key,
            "count": count,
            "article_id": articles[chat_id, message_id],
            "updated_at": now,
        }
        for (chat_id, message_id), counts in sorted(totals.items())
        for (kind, key), count in sorted(counts.items())
    ]
    if rows:
        await session.exec(sa.insert(CopyReactionCount), params=rows)


# --- article events and subscriptions ----------------------------------------------------


async def record_event(
    session: AsyncSession,
    *,
    article_id: int,
    kind: ArticleEventKind,
    chat_kind: ChatKind | None = None,
) -> bool:
    """Count one share (a chosen inline result), open (/start a_<id>), autocard or tracked
    click of the article, with the kind of chat when known. Nobody's id is kept.

    Returns False, storing nothing, for an unknown article (a stale deep link, say).
    """
    known = select(col(Article.id)).where(col(Article.id) == article_id)
    if (await session.exec(known)).first() is None:
        return False
    await session.exec(
        sa.insert(ArticleEvent).values(
            article_id=article_id, kind=kind, chat_kind=chat_kind, at=utcnow()
        )
    )
    return True


async def record_subscription(
    session: AsyncSession, *, chat_id: int, chat_kind: ChatKind, subscribed: bool
) -> None:
    """Record that a stored chat started (True) or stopped (False) receiving pushes.

    `storage.chats` calls this whenever that changes (subscribe, unsubscribe, blocked or
    removed, a group moving to its supergroup); handlers need not.
    """
    await session.exec(
        sa.insert(SubscriptionEvent).values(
            chat_id=chat_id, chat_kind=chat_kind, subscribed=subscribed, at=utcnow()
        )
    )


# --- tracked links -----------------------------------------------------------------------


def _same_kind(chat_kind: ChatKind | None) -> sa.ColumnElement[bool]:
    return col(LinkCode.chat_kind).is_not_distinct_from(chat_kind)


async def link_code(session: AsyncSession, *, article_id: int, chat_kind: ChatKind | None) -> str:
    """The short code of the article's tracked link for cards made for this kind of chat
    (None: unknown, as for inline shares), made on first use and the same ever after.

    Codes are random (``secrets.token_urlsafe(6)``: 8 characters, 48 bits), so one cannot be
    guessed from another. Raises `UnknownArticleError` for an unknown article.
    """
    existing = (
        select(col(LinkCode.code))
        .where(col(LinkCode.article_id) == article_id, _same_kind(chat_kind))
        .order_by(col(LinkCode.created_at), col(LinkCode.code))
        .limit(1)
    )
    if (code := (await session.exec(existing)).first()) is not None:
        return code
    if (await session.get(Article, article_id)) is None:
        raise UnknownArticleError(article_id)
    for _ in range(_CODE_TRIES):
        values = {
            "code": secrets.token_urlsafe(6),
            "article_id": article_id,
            "chat_kind": chat_kind,
            "created_at": utcnow(),
        }
        # Nothing inserted: another process made this article's code meanwhile, or (rarely)
        # the random code is taken; the first is read back, the second tried again.
        result = await session.exec(_insert_code(session, values).returning(col(LinkCode.code)))
        inserted: str | None = result.scalar_one_or_none()
        if inserted is not None:
            return inserted
        if (code := (await session.exec(existing)).first()) is not None:
            return code
    raise RuntimeError(f"no free link code after {_CODE_TRIES} tries")


def _insert_code(
    session: AsyncSession, values: dict[str, object]
) -> sqlite.Insert | postgresql.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(LinkCode).values(values).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(LinkCode).values(values).on_conflict_do_nothing()
    raise NotImplementedError(f"no link codes for the {dialect} dialect")


async def article_for_code(session: AsyncSession, *, code: str) -> int | None:
    """The article a tracked link's code stands for, or None for a code never made."""
    if not code or len(code) > _CODE_LENGTH:
        return None
    statement = select(col(LinkCode.article_id)).where(col(LinkCode.code) == code)
    return (await session.exec(statement)).first()


async def link_of_code(session: AsyncSession, *, code: str) -> tuple[int, ChatKind | None] | None:
    """The article a tracked link's code stands for and the kind of chat its card was made for,
    or None for a code never made."""
    if not code or len(code) > _CODE_LENGTH:
        return None
    statement = select(col(LinkCode.article_id), col(LinkCode.chat_kind)).where(
        col(LinkCode.code) == code
    )
    if (found := (await session.exec(statement)).first()) is None:
        return None
    article_id, chat_kind = found
    return int(article_id), None if chat_kind is None else ChatKind(chat_kind)


async def record_click(session: AsyncSession, *, code: str) -> int | None:
    """Count a click on a tracked link (with the kind of chat its card was made for) and return
    its article, or None (nothing counted) for a code never made."""
    if not code or len(code) > _CODE_LENGTH:
        return None
    statement = select(col(LinkCode.article_id), col(LinkCode.chat_kind)).where(
        col(LinkCode.code) == code
    )
    if (found := (await session.exec(statement)).first()) is None:
        return None
    article_id, chat_kind = found
    kind = None if chat_kind is None else ChatKind(chat_kind)
    await record_event(session, article_id=article_id, kind=ArticleEventKind.CLICK, chat_kind=kind)
    return int(article_id)


# --- what editors read -------------------------------------------------------------------


async def article_engagement(
    session: AsyncSession, *, article_id: int, clicks_tracked: bool
) -> ArticleEngagement | None:
    """Everything the report on one article shows, or None for an unknown article.

    ``published_at`` is when the bot published it (else the source's date); ``clicks`` is None
    unless `clicks_tracked`. Per chat, private chats are one row (`PRIVATE_CHATS_TITLE`).
    """
    article = await session.get(Article, article_id)
    if article is None:
        return None
    poll = (await session.exec(select(Poll).where(col(Poll.article_id) == article_id))).first()
    options: tuple[str, ...] = ()
    option_counts: tuple[int, ...] = ()
    vote_times: tuple[datetime, ...] = ()
    if poll is not None and poll.id is not None:
        options, option_counts = await _options_and_counts(session, poll_id=poll.id)
        vote_times = tuple(
            await session.exec(
                select(col(Vote.cast_at))
                .where(col(Vote.poll_id) == poll.id)
                .order_by(col(Vote.cast_at))
            )
        )
    delivery_times = tuple(
        sent_at
        for sent_at in await session.exec(
            select(col(Delivery.sent_at))
            .where(_sent_copies(article_id), col(Delivery.sent_at).is_not(None))
            .order_by(col(Delivery.sent_at))
        )
        if sent_at is not None
    )
    events = await _event_counts(session, article_ids=[article_id])
    return ArticleEngagement(
        article_id=article_id,
        title=article.title,
        published_at=article.pushed_at or article.published_at,
        reach=await _reach(session, article_id=article_id),
        question=poll.question if poll is not None else None,
        options=options,
        option_counts=option_counts,
        voters=sum(option_counts),
        vote_times=vote_times,
        delivery_times=delivery_times,
        reactions=await _reactions(session, article_id=article_id),
        shares=events.get((article_id, ArticleEventKind.SHARE), 0),
        opens=events.get((article_id, ArticleEventKind.OPEN), 0),
        autocards=events.get((article_id, ArticleEventKind.AUTOCARD), 0),
        clicks=events.get((article_id, ArticleEventKind.CLICK), 0) if clicks_tracked else None,
        per_chat=await _per_chat(
            session, article_id=article_id, poll_id=poll.id if poll is not None else None
        ),
    )


def _sent_copies(article_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(Delivery.article_id) == article_id, col(Delivery.status) == DeliveryStatus.SENT
    )


async def _options_and_counts(
    session: AsyncSession, *, poll_id: int
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    options = (
        await session.exec(
            select(col(PollOption.id), col(PollOption.text))
            .where(col(PollOption.poll_id) == poll_id)
            .order_by(col(PollOption.position))
        )
    ).all()
    counts = dict(
        (
            await session.exec(
                select(col(Vote.option_id), sa.func.count())
                .where(col(Vote.poll_id) == poll_id)
                .group_by(col(Vote.option_id))
            )
        ).all()
    )
    return (
        tuple(text for _, text in options),
        tuple(int(counts.get(option_id, 0)) for option_id, _ in options if option_id is not None),
    )


async def _reach(session: AsyncSession, *, article_id: int) -> tuple[ChatReach, ...]:
    """Deliveries by chat kind: sent, failed, and blocked (the chat blocked or removed the bot,
    now or before its turn); rows still queued are not counted yet."""
    rows = await session.exec(
        select(col(Chat.kind), col(Delivery.status), col(Delivery.failure), sa.func.count())
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .where(col(Delivery.article_id) == article_id)
        .group_by(col(Chat.kind), col(Delivery.status), col(Delivery.failure))
    )
    tallies: dict[ChatKind, list[int]] = {}
    for kind, status, failure, count in rows:
        sent_failed_blocked = tallies.setdefault(ChatKind(kind), [0, 0, 0])
        if status == DeliveryStatus.SENT:
            sent_failed_blocked[0] += count
        elif failure in _BLOCKED_FAILURES:
            sent_failed_blocked[2] += count
        elif status == DeliveryStatus.FAILED:
            sent_failed_blocked[1] += count
    return tuple(
        ChatReach(chat_kind=kind.value, sent=sent, failed=failed, blocked=blocked)
        for kind in ChatKind
        if kind in tallies
        for sent, failed, blocked in [tallies[kind]]
    )


async def _reactions(session: AsyncSession, *, article_id: int) -> tuple[ReactionCount, ...]:
    """The article's reactions over all its copies, the most frequent first."""
    total = sa.func.sum(col(CopyReactionCount.count))
    rows = await session.exec(
        select(col(CopyReactionCount.kind), col(CopyReactionCount.key), total)
        .where(col(CopyReactionCount.article_id) == article_id)
        .group_by(col(CopyReactionCount.kind), col(CopyReactionCount.key))
    )
    counted = [ReactionCount(ReactionKind(kind), key, int(count)) for kind, key, count in rows]
    return tuple(sorted(counted, key=lambda r: (-r.count, r.kind.value, r.key)))


async def _event_counts(
    session: AsyncSession, *, article_ids: Sequence[int], kinds: Sequence[ArticleEventKind] = ()
) -> dict[tuple[int, ArticleEventKind], int]:
    statement = (
        select(col(ArticleEvent.article_id), col(ArticleEvent.kind), sa.func.count())
        .where(col(ArticleEvent.article_id).in_(article_ids))
        .group_by(col(ArticleEvent.article_id), col(ArticleEvent.kind))
    )
    if kinds:
        statement = statement.where(col(ArticleEvent.kind).in_(kinds))
    return {
        (article_id, ArticleEventKind(kind)): int(count)
        for article_id, kind, count in await session.exec(statement)
    }


async def _per_chat(
    session: AsyncSession, *, article_id: int, poll_id: int | None
) -> tuple[PerChat, ...]:
    """Votes and reactions per chat the article reached (or was voted or reacted on in), the
    busiest first; all private chats are one row, since their titles are readers' names."""
    one, zero = sa.literal_column("1", sa.Integer), sa.literal_column("0", sa.Integer)
    sources: list[sa.Select[Any, Any, Any]] = [
        # The first select names the union's columns.
        sa.select(
            col(Delivery.chat_id).label("chat_id"), zero.label("votes"), zero.label("reactions")
        ).where(_sent_copies(article_id)),
        sa.select(col(CopyReactionCount.chat_id), zero, col(CopyReactionCount.count)).where(
            col(CopyReactionCount.article_id) == article_id
        ),
    ]
    if poll_id is not None:
        sources.append(
            sa.select(col(Vote.chat_id), one, zero).where(
                col(Vote.poll_id) == poll_id, col(Vote.chat_id).is_not(None)
            )
        )
    rows = sa.union_all(*sources).subquery()
    chat_id, votes, reactions = rows.c
    private = col(Chat.kind) == ChatKind.PRIVATE
    # Labelled in a subquery first: PostgreSQL groups by names, not by expressions with binds.
    folded = (
        sa.select(
            sa.case((private, sa.null()), else_=col(Chat.id)).label("chat"),
            col(Chat.kind).label("kind"),
            sa.case((private, sa.null()), else_=col(Chat.title)).label("title"),
            votes.label("votes"),
            reactions.label("reactions"),
        )
        .join_from(rows, Chat, col(Chat.id) == chat_id)
        .subquery()
    )
    connection = await session.connection()
    grouped = await connection.execute(
        sa.select(
            folded.c.chat,
            folded.c.kind,
            folded.c.title,
            sa.func.sum(folded.c.votes),
            sa.func.sum(folded.c.reactions),
        ).group_by(folded.c.chat, folded.c.kind, folded.c.title)
    )
    per_chat = [
        PerChat(
            title=PRIVATE_CHATS_TITLE if chat is None else (title or ""),
            chat_kind=ChatKind(kind).value,
            votes=int(vote_count),
            reactions=int(reaction_count),
        )
        for chat, kind, title, vote_count, reaction_count in grouped
    ]
    return tuple(sorted(per_chat, key=lambda row: (-row.votes, -row.reactions, row.title)))


async def week_summaries(session: AsyncSession, *, since: datetime) -> list[ArticleSummary]:
    """One row per article the bot published since `since`, oldest first: chats reached,
    voters, reactions and shares (one grouped count each, whatever the number of articles)."""
    published = (
        await session.exec(
            select(col(Article.id), col(Article.title))
            .where(col(Article.pushed_at) >= since)
            .order_by(col(Article.pushed_at), col(Article.id))
        )
    ).all()
    ids = [article_id for article_id, _ in published if article_id is not None]
    if not ids:
        return []
    reached = await _counts_by_article(
        session,
        select(col(Delivery.article_id), sa.func.count())
        .where(col(Delivery.article_id).in_(ids), col(Delivery.status) == DeliveryStatus.SENT)
        .group_by(col(Delivery.article_id)),
    )
    voters = await _counts_by_article(
        session,
        select(col(Poll.article_id), sa.func.count())
        .join(Vote, col(Vote.poll_id) == col(Poll.id))
        .where(col(Poll.article_id).in_(ids))
        .group_by(col(Poll.article_id)),
    )
    reactions = await _counts_by_article(
        session,
        select(col(CopyReactionCount.article_id), sa.func.sum(col(CopyReactionCount.count)))
        .where(col(CopyReactionCount.article_id).in_(ids))
        .group_by(col(CopyReactionCount.article_id)),
    )
    shares = await _event_counts(session, article_ids=ids, kinds=[ArticleEventKind.SHARE])
    return [
        ArticleSummary(
            article_id=article_id,
            title=title,
            reached=reached.get(article_id, 0),
            voters=voters.get(article_id, 0),
            reactions=reactions.get(article_id, 0),
            shares=shares.get((article_id, ArticleEventKind.SHARE), 0),
        )
        for article_id, title in published
        if article_id is not None
    ]


async def _counts_by_article(
    session: AsyncSession, statement: Select[int | None, int]
) -> dict[int, int]:
    return {
        article_id: int(count or 0)
        for article_id, count in await session.exec(statement)
        if article_id is not None
    }


async def subscriber_history(
    session: AsyncSession, *, days: int, now: datetime
) -> list[SubscriberDay]:
    """Chats receiving pushes at the end of each of the last `days` days (today: now), by chat
    kind, oldest day first; days begin at midnight in `now`'s time zone.

    Counted back from the chats receiving pushes now through the subscription events (one
    grouped count): a chat subscribed before events were recorded counts throughout.
    """
    if now.tzinfo is None:
        raise ValueError("pass an aware `now`: days begin at midnight in its time zone")
    if days < 1:
        return []
    first_day = now.date() - timedelta(days=days - 1)
    starts = [
        datetime.combine(first_day + timedelta(days=offset), time(), tzinfo=now.tzinfo)
        for offset in range(days)
    ]
    ends = [*starts[1:], now]
    current = dict.fromkeys(ChatKind, 0)
    for kind, count in await session.exec(
        select(col(Chat.kind), sa.func.count())
        .where(col(Chat.subscribed).is_(True), col(Chat.active).is_(True))
        .group_by(col(Chat.kind))
    ):
        current[ChatKind(kind)] = int(count)
    # Each event falls into the day it changed (bucket j: after the end of day j-1, by the end
    # of day j; `days` for any after `now`); earlier events change none of the days counted.
    at = col(SubscriptionEvent.at)
    bucket = sa.case(
        *((at <= end, sa.literal_column(str(day))) for day, end in enumerate(ends)),
        else_=sa.literal_column(str(days)),
    )
    sign = sa.case((col(SubscriptionEvent.subscribed).is_(True), 1), else_=-1)
    events = (
        select(
            bucket.label("bucket"),
            col(SubscriptionEvent.chat_kind).label("kind"),
            sign.label("change"),
        )
        .where(at > ends[0])
        .subquery()
    )
    change: dict[tuple[int, ChatKind], int] = defaultdict(int)
    for day, kind, net in await session.exec(
        select(events.c.bucket, events.c.kind, sa.func.sum(events.c.change)).group_by(
            events.c.bucket, events.c.kind
        )
    ):
        change[int(day), ChatKind(kind)] += int(net)
    history: list[SubscriberDay] = []
    counts = {kind: current[kind] - change[days, kind] for kind in ChatKind}
    for day in range(days - 1, -1, -1):
        # Never below zero, even if events and chats disagree (a chat row deleted by hand).
        history.append(
            SubscriberDay(
                day=starts[day], by_kind={kind.value: max(0, n) for kind, n in counts.items()}
            )
        )
        counts = {kind: counts[kind] - change[day, kind] for kind in ChatKind}
    history.reverse()
    return history
