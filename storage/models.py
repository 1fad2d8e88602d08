"""The tables of the whole domain: chats, users, articles, feeds, polls, votes, poll messages,
deliveries and broadcasts, the engagement signals (reactions, article events, subscription
events, tracked link codes), and corrections with the ledger of the copies they change.

Telegram ids (chats, users) are the primary keys of their tables; everything the bot creates
itself gets an autoincrement id. Alembic migrations in ``storage/migrations`` create these
tables; nothing calls ``create_all``.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from newsroom.engagement import ReactionKind
from storage.types import UTCDateTime, string_enum, utcnow

# Named constraints let later SQLite batch migrations find and alter them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class StopReason(StrEnum):
    """Why a chat stopped receiving pushes."""

    BLOCKED = "blocked"
    KICKED = "kicked"
    LEFT = "left"
    MIGRATED = "migrated"
    UNSUBSCRIBED = "unsubscribed"
    CHAT_NOT_FOUND = "chat_not_found"
    # A forum topic's subscription ends when Telegram says the topic is closed or gone.
    TOPIC_CLOSED = "topic_closed"
    TOPIC_DELETED = "topic_deleted"


class DeliveryMode(StrEnum):
    """How a chat wants its articles: each at once, or gathered into one digest per period."""

    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class ResultsVisibility(StrEnum):
    """When a reader sees the live totals of a poll."""

    ALWAYS = "always"
    AFTER_VOTE = "after_vote"


class RetireReason(StrEnum):
    """Why a poll message is no longer kept up to date."""

    DELETED = "deleted"
    UNREACHABLE = "unreachable"
    CHAT_MIGRATED = "chat_migrated"
    POLL_CLOSED = "poll_closed"
    # The article was retracted: its copies are deleted or replaced, never edited again.
    WITHDRAWN = "withdrawn"


class DeliveryKind(StrEnum):
    ARTICLE = "article"
    BROADCAST = "broadcast"
    DIGEST = "digest"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class ScheduledKind(StrEnum):
    PUBLISH = "publish"
    BROADCAST = "broadcast"


class ScheduledStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ArticleEventKind(StrEnum):
    """Something readers did with an article, counted per article (no reader is recorded)."""

    SHARE = "share"  # an inline result chosen: the card shared into a chat
    OPEN = "open"  # /start a_<id>: the card opened by deep link
    AUTOCARD = "autocard"  # a card posted for an article link someone sent in a group
    CLICK = "click"  # "Read the full article" followed through a tracked link


def _telegram_id() -> Any:
    """A primary key holding an id that Telegram assigned (up to 52 bits, never generated here)."""
    return Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger,
        sa_column_kwargs={"autoincrement": False},
    )


class Chat(SQLModel, table=True):
    """A private chat, group, supergroup or channel the bot has met.

    ``subscribed`` records that the chat asked for pushes; ``active`` says it receives them
    now. A chat that blocked or removed the bot stays subscribed (so its history shows) but
    inactive, with ``stop_reason`` saying why.
    """

    __tablename__ = "chats"
    __table_args__ = (sa.Index(None, "active", "kind"),)

    id: int = _telegram_id()
    kind: ChatKind = Field(sa_type=string_enum(ChatKind))
    title: str | None = None
    username: str | None = None
    language: str | None = Field(default=None, sa_type=sa.String(16))
    subscribed: bool = False
    active: bool = False
    stop_reason: StopReason | None = Field(default=None, sa_type=string_enum(StopReason))
    subscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    migrated_to: int | None = Field(default=None, sa_type=sa.BigInteger)
    # The sections the chat follows, normalised (newsroom text); empty means every section.
    topics: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    delivery_mode: DeliveryMode = Field(
        default=DeliveryMode.INSTANT,
        sa_type=string_enum(DeliveryMode),
        sa_column_kwargs={"server_default": DeliveryMode.INSTANT.value},
    )
    # The local hour (0-23) a digest goes out, and for weekly ones the weekday (0 is Monday).
    digest_hour: int | None = None
    digest_weekday: int | None = None
    # Quiet hours as minutes after local midnight, from and until (None: no quiet hours).
    quiet_from: int | None = None
    quiet_until: int | None = None
    # An IANA zone name; None means the bot's TIMEZONE.
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ForumTopic(SQLModel, table=True):
    """A topic of a forum supergroup subscribed on its own: /subscribe sent inside the topic.

    Its cards and broadcasts carry its ``message_thread_id``; the group's own subscription
    (``Chat.subscribed``) covers the General topic. The chat's preferences apply to each topic.
    """

    __tablename__ = "forum_topics"

    chat_id: int = Field(
        primary_key=True,
        sa_column_args=[sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE")],
        sa_type=sa.BigInteger,
        sa_column_kwargs={"autoincrement": False},
    )
    thread_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    title: str | None = None
    subscribed: bool = False
    active: bool = False
    stop_reason: StopReason | None = Field(default=None, sa_type=string_enum(StopReason))
    subscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    """A Telegram user the bot has seen (a voter, an admin, a subscriber in a private chat)."""

    __tablename__ = "users"

    id: int = _telegram_id()
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language: str | None = Field(default=None, sa_type=sa.String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Article(SQLModel, table=True):
    """A publisher's article as the bot shows it: the card, its fact and its reading aids."""

    __tablename__ = "articles"
    __table_args__ = (sa.Index(None, "status", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    canonical_url: str = Field(unique=True)
    source_guid: str | None = Field(default=None, unique=True)
    title: str
    standfirst: str | None = Field(default=None, sa_type=sa.Text)
    author: str | None = None
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    image_url: str | None = None
    body: str | None = Field(default=None, sa_type=sa.Text)
    key_points: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    fact: str | None = Field(default=None, sa_type=sa.Text)
    reading_minutes: int | None = None
    topics: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Each item is {"title": ..., "url": ...}.
    related: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    status: ArticleStatus = Field(default=ArticleStatus.DRAFT, sa_type=string_enum(ArticleStatus))
    pushed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The admin who published it (None for feed items, and for articles published before 0004).
    published_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    # How many corrections (and retractions) were confirmed for it: a copy rendered from an
    # earlier revision is out of date.
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The line a corrected card shows, such as "Updated 14:05: the turnout was 61%".
    correction: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Feed(SQLModel, table=True):
    """An RSS or Atom feed the bot polls: the validators of its last answer and how it went.

    ``first_seen_at`` is when the bot first polled it; items dated before then are the back
    catalogue and are recorded as seen without being published.
    """

    __tablename__ = "feeds"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    etag: str | None = None
    last_modified: str | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FeedItemSeen(SQLModel, table=True):
    """A feed item the bot has dealt with, by its key (guid, else canonical address).

    Recorded in the transaction that stores and queues its article, so no item goes out twice.
    ``article_id`` is None for back-catalogue items that were never published.
    """

    __tablename__ = "feed_items_seen"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    feed_url: str
    article_id: int | None = Field(default=None, foreign_key="articles.id", ondelete="SET NULL")
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Poll(SQLModel, table=True):
    """A question with ordered options; at most one per article."""

    __tablename__ = "polls"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int | None = Field(
        default=None, foreign_key="articles.id", ondelete="CASCADE", unique=True
    )
    question: str
    is_closed: bool = False
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    results_visibility: ResultsVisibility = Field(
        default=ResultsVisibility.AFTER_VOTE, sa_type=string_enum(ResultsVisibility)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PollOption(SQLModel, table=True):
    """One answer of a poll, at its position (0-based) in the keyboard."""

    __tablename__ = "poll_options"
    __table_args__ = (sa.UniqueConstraint("poll_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", ondelete="CASCADE")
    position: int
    text: str


class Vote(SQLModel, table=True):
    """A user's current answer to a poll; changing one's mind updates the row."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("poll_id", "user_id"),
        # Live totals count votes per option of one poll.
        sa.Index(None, "poll_id", "option_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", ondelete="CASCADE")
    user_id: int = Field(sa_type=sa.BigInteger, foreign_key="users.id", ondelete="CASCADE")
    option_id: int = Field(foreign_key="poll_options.id", ondelete="CASCADE")
    # Where the vote was cast; None for inline messages, whose chat the bot never learns.
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    cast_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PollMessage(SQLModel, table=True):
    """A message somewhere that shows a poll and must be edited when the totals change.

    It is addressed either by chat id and message id or by an inline message id.
    """

    __tablename__ = "poll_messages"
    __table_args__ = (
        sa.UniqueConstraint("chat_id", "message_id"),
        sa.CheckConstraint(
            "(chat_id IS NOT NULL AND message_id IS NOT NULL) OR inline_message_id IS NOT NULL",
            name="target",
        ),
        # The editor looks for dirty messages whose next edit is due.
        sa.Index(None, "dirty", "next_edit_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", ondelete="CASCADE", index=True)
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    message_id: int | None = None
    inline_message_id: str | None = Field(default=None, unique=True)
    # Hash of the text and keyboard the message shows now, to skip edits that change nothing.
    shown_hash: str | None = Field(default=None, sa_type=sa.String(64))
    dirty: bool = False
    next_edit_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired: bool = False
    retired_reason: RetireReason | None = Field(default=None, sa_type=string_enum(RetireReason))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Broadcast(SQLModel, table=True):
    """An admin's message to many chats: either HTML text or a message to copy."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(sa_type=sa.BigInteger)
    html: str | None = Field(default=None, sa_type=sa.Text)
    copy_from_chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    copy_message_id: int | None = None
    # Empty lists mean "every kind" and "every topic".
    target_kinds: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    target_topics: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Urgent broadcasts go out inside readers' quiet hours too.
    urgent: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    status: BroadcastStatus = Field(
        default=BroadcastStatus.DRAFT, sa_type=string_enum(BroadcastStatus)
    )
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Counts as of the final report (the ledger in ``deliveries`` is the live truth).
    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    cancelled: int = 0
    # The admin's progress message, edited while the broadcast runs, even after a restart.
    progress_chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    progress_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Digest(SQLModel, table=True):
    """One period's digest for one chat (or forum topic): the articles published in its window
    that the chat follows, sent as one message through the delivery ledger."""

    __tablename__ = "digests"
    __table_args__ = (sa.UniqueConstraint("chat_id", "thread_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column_args=[sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE")],
        sa_type=sa.BigInteger,
    )
    thread_id: int = 0
    # The local period it covers, such as "2026-12-03" (daily) or "2026-W49" (weekly).
    period: str = Field(max_length=16)
    window_start: datetime = Field(sa_type=UTCDateTime)
    window_end: datetime = Field(sa_type=UTCDateTime)
    # How many of its messages are out, and the last one's id: a restart resumes after them.
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# The check on deliveries: each row carries exactly one item, of its kind.
ONE_ITEM = (
    "(kind = 'article' AND article_id IS NOT NULL AND broadcast_id IS NULL AND digest_id IS NULL)"
    " OR (kind = 'broadcast' AND broadcast_id IS NOT NULL AND article_id IS NULL"
    " AND digest_id IS NULL)"
    " OR (kind = 'digest' AND digest_id IS NOT NULL AND article_id IS NULL"
    " AND broadcast_id IS NULL)"
)


class Delivery(SQLModel, table=True):
    """One item (an article card, a broadcast or a digest) on its way to one chat or topic."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "chat_id", "thread_id"),
        sa.UniqueConstraint("broadcast_id", "chat_id", "thread_id"),
        sa.CheckConstraint(ONE_ITEM, name="one_item"),
        # The engine claims the oldest pending rows: an index walk, whatever the backlog.
        sa.Index(None, "status", "id"),
        # A broadcast's progress counts its rows by status and failure from the index alone.
        sa.Index(None, "broadcast_id", "status", "failure"),
        # A chat's rows, and which article a message in it shows (reactions name the message).
        sa.Index(None, "chat_id", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: DeliveryKind = Field(sa_type=string_enum(DeliveryKind))
    article_id: int | None = Field(default=None, foreign_key="articles.id", ondelete="CASCADE")
    broadcast_id: int | None = Field(default=None, foreign_key="broadcasts.id", ondelete="CASCADE")
    digest_id: int | None = Field(
        default=None, foreign_key="digests.id", ondelete="CASCADE", unique=True
    )
    chat_id: int = Field(
        sa_column_args=[
            sa.ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
        ],
        sa_type=sa.BigInteger,
    )
    # The forum topic (message_thread_id) it goes to; 0 for the chat itself.
    thread_id: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_type=string_enum(DeliveryStatus)
    )
    attempts: int = 0
    message_id: int | None = None
    # Why the row ended failed or cancelled (a bot.telegram.errors.Failure value, or
    # "chat_inactive" / "cancelled"); also set on rows waiting to retry.
    failure: str | None = Field(default=None, sa_type=sa.String(32))
    last_error: str | None = None
    # The bot process that claimed the row (bot/runtime/workers.py): a dead one's claims are found.
    claimed_by: str | None = Field(default=None, max_length=64)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScheduledAction(SQLModel, table=True):
    """Something an admin asked to happen later: publish an article, or start a broadcast."""

    __tablename__ = "scheduled_actions"
    __table_args__ = (
        # The scheduler looks for pending actions whose time has come.
        sa.Index(None, "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: ScheduledKind = Field(sa_type=string_enum(ScheduledKind))
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: ScheduledStatus = Field(
        default=ScheduledStatus.PENDING, sa_type=string_enum(ScheduledStatus)
    )
    author_id: int = Field(sa_type=sa.BigInteger)
    # Where the admin asked, so the outcome is reported there.
    chat_id: int = Field(sa_type=sa.BigInteger)
    url: str | None = None
    broadcast_id: int | None = Field(default=None, foreign_key="broadcasts.id", ondelete="CASCADE")
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Lease(SQLModel, table=True):
    """A job only one bot process may do at a time, or a process's own heartbeat: whoever holds
    the row until `expires_at` has it, and renews it long before then."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # A heartbeat's newest join (``WorkerJoins.serial``) its worker has acknowledged.
    acknowledged: int = 0


class WorkerJoins(SQLModel, table=True):
    """How many times a worker has joined the others (one row): a joining worker bumps it and
    sends nothing rate-limited until every other live worker has acknowledged its serial."""

    __tablename__ = "worker_joins"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    serial: int = 0


class SendLane(SQLModel, table=True):
    """A bot-wide send rate shared by the workers ('bot' or 'paid'): the first instant, in
    seconds of the database's clock, that no worker has reserved yet."""

    __tablename__ = "send_lanes"

    lane: str = Field(primary_key=True, max_length=16)
    next_free: float = Field(sa_type=sa.Double)


class ChatPace(SQLModel, table=True):
    """When a chat may next get a message from any worker, in seconds of the database's clock
    (the chat id as text: a channel may be addressed by its @username)."""

    __tablename__ = "chat_pace"

    chat: str = Field(primary_key=True, max_length=64)
    next_free: float = Field(sa_type=sa.Double)


class PollChange(SQLModel, table=True):
    """A counter per poll, bumped with every stored batch of its votes, so the process that edits
    poll messages learns of votes other processes took."""

    __tablename__ = "poll_changes"

    poll_id: int = Field(primary_key=True, foreign_key="polls.id", ondelete="CASCADE")
    serial: int = 0


class SeenUpdate(SQLModel, table=True):
    """A Telegram update the bot has taken on, by update_id and a digest of what it carries:
    the same update delivered again (after a restart before the offset was confirmed) is
    skipped, while an update reusing an old id (ids started over) is new. Kept for a day.
    """

    __tablename__ = "seen_updates"
    # Pruning drops rows by age.
    __table_args__ = (sa.Index(None, "seen_at"),)

    update_id: int = Field(
        primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # None for rows recorded before digests were (revision 0002): those match by id alone.
    digest: str | None = Field(default=None, sa_type=sa.String(16))


class CopyReactionCount(SQLModel, table=True):
    """How many times one reaction stands under one copy of an article (a message the bot sent).

    A copy's rows are replaced as a whole by every reaction update about it (storage/engagement.py
    says how); ``article_id`` is resolved when the update is stored.
    """

    __tablename__ = "reaction_counts"
    # Reports add up an article's reactions over all its copies.
    __table_args__ = (sa.Index(None, "article_id"),)

    chat_id: int = _telegram_id()
    message_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: ReactionKind = Field(primary_key=True, sa_type=string_enum(ReactionKind))
    # The emoji, the custom emoji's id, or "paid".
    key: str = Field(primary_key=True, max_length=64)
    count: int
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserReaction(SQLModel, table=True):
    """One reaction a user has now under one copy, where Telegram names who reacted (private
    chats, groups): a user's rows are replaced by each of their updates, and the copy's counts
    are recomputed from them."""

    __tablename__ = "user_reactions"

    chat_id: int = _telegram_id()
    message_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    # The user's id, or the chat's for a reaction made on behalf of a chat.
    user_id: int = Field(
        primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    kind: ReactionKind = Field(primary_key=True, sa_type=string_enum(ReactionKind))
    key: str = Field(primary_key=True, max_length=64)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ArticleEvent(SQLModel, table=True):
    """A share, deep-link open, autocard or tracked click of an article; never who did it."""

    __tablename__ = "article_events"
    # Reports count an article's events by kind.
    __table_args__ = (sa.Index(None, "article_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    kind: ArticleEventKind = Field(sa_type=string_enum(ArticleEventKind))
    # Where it happened, when known (an inline share does not say).
    chat_kind: ChatKind | None = Field(default=None, sa_type=string_enum(ChatKind))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubscriptionEvent(SQLModel, table=True):
    """A chat starting or stopping to receive pushes (recorded since revision 0003)."""

    __tablename__ = "subscription_events"
    # The subscriber history reads the events of the last days.
    __table_args__ = (sa.Index(None, "at"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column_args=[sa.ForeignKey("chats.id", ondelete="CASCADE")], sa_type=sa.BigInteger
    )
    chat_kind: ChatKind = Field(sa_type=string_enum(ChatKind))
    subscribed: bool
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LinkCode(SQLModel, table=True):
    """The short code of a tracked "Read the full article" link (/r/<code>): which article, and
    the kind of chat the card was made for (None when unknown, as for inline shares)."""

    __tablename__ = "link_codes"
    __table_args__ = (sa.UniqueConstraint("article_id", "chat_kind"),)

    code: str = Field(primary_key=True, max_length=16)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    chat_kind: ChatKind | None = Field(default=None, sa_type=string_enum(ChatKind))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CorrectionAction(StrEnum):
    """What a correction does to every copy of its article."""

    UPDATE = "update"  # each copy is edited to the corrected card
    RETRACT = "retract"  # each copy is deleted, or replaced by a notice where it cannot be


class CorrectionStatus(StrEnum):
    DRAFT = "draft"  # previewed, waiting for Confirm or Cancel
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class CopyChangeStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"


class CopyOutcome(StrEnum):
    """What became of one copy."""

    EDITED = "edited"
    DELETED = "deleted"
    NOTICE = "notice"  # Telegram would not delete it: it says the article was withdrawn
    SUPERSEDED = "superseded"  # a later correction of the article took the copy over
    FAILED = "failed"


class Correction(SQLModel, table=True):
    """An admin's correction or retraction of one article: previewed, confirmed, then carried
    to every copy by its rows in ``copy_changes``."""

    __tablename__ = "corrections"
    # The runner looks for running corrections; an article's are read newest first.
    __table_args__ = (sa.Index(None, "status"), sa.Index(None, "article_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    action: CorrectionAction = Field(sa_type=string_enum(CorrectionAction))
    status: CorrectionStatus = Field(
        default=CorrectionStatus.DRAFT, sa_type=string_enum(CorrectionStatus)
    )
    author_id: int = Field(sa_type=sa.BigInteger)
    # The admin's note (an update) or reason (a retraction); None when they gave none.
    note: str | None = Field(default=None, sa_type=sa.Text)
    # An update's corrected fields as read from the source, applied to the article on Confirm.
    draft: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # The article's revision the preview was made from: Confirm refuses once it moved on.
    based_on: int = 0
    # The revision Confirm gave the article.
    revision: int | None = None
    # The admin's preview, edited into the progress and then the report.
    progress_chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    progress_message_id: int | None = None
    # Counts as of the final report (the rows in ``copy_changes`` are the live truth).
    total: int = 0
    edited: int = 0
    deleted: int = 0
    notices: int = 0
    failed: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# A copy is a message of a chat, or an inline message; the check on both tables below.
ONE_COPY = "(chat_id IS NOT NULL AND message_id IS NOT NULL) OR inline_message_id IS NOT NULL"


class CopyChange(SQLModel, table=True):
    """One copy of an article that one correction edits or deletes: the ledger row that makes
    it happen once, across restarts (pending -> sending -> done or failed)."""

    __tablename__ = "copy_changes"
    __table_args__ = (
        sa.UniqueConstraint("correction_id", "chat_id", "message_id"),
        sa.UniqueConstraint("correction_id", "inline_message_id"),
        sa.CheckConstraint(ONE_COPY, name="target"),
        # The runner claims the oldest pending rows.
        sa.Index(None, "status", "id"),
        # Progress counts a correction's rows by status and outcome.
        sa.Index(None, "correction_id", "status", "outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    correction_id: int = Field(foreign_key="corrections.id", ondelete="CASCADE")
    # Where the copy stands; the ids are those it was sent with, even if the chat moved since.
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    message_id: int | None = None
    inline_message_id: str | None = None
    # The photo above an image card's message, when the bot knows it.
    photo_message_id: int | None = None
    # The poll message it also is: edited with the poll's current totals.
    poll_message_id: int | None = Field(
        default=None, foreign_key="poll_messages.id", ondelete="SET NULL"
    )
    # The kind of chat (its card's link depends on it); None for an inline copy.
    chat_kind: ChatKind | None = Field(default=None, sa_type=string_enum(ChatKind))
    status: CopyChangeStatus = Field(
        default=CopyChangeStatus.PENDING, sa_type=string_enum(CopyChangeStatus)
    )
    attempts: int = 0
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    outcome: CopyOutcome | None = Field(default=None, sa_type=string_enum(CopyOutcome))
    # Why it failed (a bot.telegram.errors.Failure value, or "chat_inactive"), or is retried.
    failure: str | None = Field(default=None, sa_type=sa.String(32))
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CardCopy(SQLModel, table=True):
    """A copy of an article's card that the delivery ledger does not describe whole: one shown
    on request (/latest, a deep link, an autocard), one posted through inline mode, or a
    delivered image card (the photo above its message)."""

    __tablename__ = "card_copies"
    __table_args__ = (
        sa.UniqueConstraint("chat_id", "message_id"),
        sa.CheckConstraint(ONE_COPY, name="target"),
        # A correction gathers an article's copies.
        sa.Index(None, "article_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    message_id: int | None = None
    inline_message_id: str | None = Field(default=None, unique=True)
    photo_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
