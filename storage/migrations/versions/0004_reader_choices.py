"""Readers choose what and when: each chat's delivery mode, digest hour, quiet hours and time
zone; forum topics subscribed on their own; digests; urgent broadcasts; who published.

Deliveries gain the forum topic they go to (0, the chat itself, for every existing row) and the
digest they carry, so their one-row-per-item-and-chat keys now include the topic. Every existing
chat keeps its subscription and gets the defaults: instant delivery, no quiet hours, the bot's
time zone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONE_ITEM_BEFORE = (
    "(kind = 'article' AND article_id IS NOT NULL AND broadcast_id IS NULL)"
    " OR (kind = 'broadcast' AND broadcast_id IS NOT NULL AND article_id IS NULL)"
)
# Written out rather than imported: a migration keeps the schema of its own revision.
_ONE_ITEM = (
    "(kind = 'article' AND article_id IS NOT NULL AND broadcast_id IS NULL AND digest_id IS NULL)"
    " OR (kind = 'broadcast' AND broadcast_id IS NOT NULL AND article_id IS NULL"
    " AND digest_id IS NULL)"
    " OR (kind = 'digest' AND digest_id IS NOT NULL AND article_id IS NULL"
    " AND broadcast_id IS NULL)"
)


def _chat_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["chat_id"],
        ["chats.id"],
        name=op.f(f"fk_{table}_chat_id_chats"),
        onupdate="CASCADE",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("chats") as chats:
        chats.add_column(
            sa.Column(
                "delivery_mode", sa.String(length=32), server_default="instant", nullable=False
            )
        )
        chats.add_column(sa.Column("digest_hour", sa.Integer(), nullable=True))
        chats.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=True))
        chats.add_column(sa.Column("quiet_from", sa.Integer(), nullable=True))
        chats.add_column(sa.Column("quiet_until", sa.Integer(), nullable=True))
        chats.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    op.add_column("articles", sa.Column("published_by", sa.BigInteger(), nullable=True))
    op.add_column(
        "broadcasts",
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "forum_topics",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("thread_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _chat_key("forum_topics"),
        sa.PrimaryKeyConstraint("chat_id", "thread_id", name=op.f("pk_forum_topics")),
    )
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _chat_key("digests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint(
            "chat_id", "thread_id", "period", name=op.f("uq_digests_chat_id_thread_id_period")
        ),
    )
    # SQLite rebuilds the table, carrying over the constraints it reflects (the check included).
    with op.batch_alter_table("deliveries") as deliveries:
        deliveries.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        deliveries.add_column(
            sa.Column("thread_id", sa.Integer(), server_default="0", nullable=False)
        )
        deliveries.drop_constraint(op.f("uq_deliveries_article_id_chat_id"), type_="unique")
        deliveries.drop_constraint(op.f("uq_deliveries_broadcast_id_chat_id"), type_="unique")
        deliveries.drop_constraint(op.f("ck_deliveries_one_item"), type_="check")
        deliveries.create_unique_constraint(
            op.f("uq_deliveries_article_id_chat_id_thread_id"),
            ["article_id", "chat_id", "thread_id"],
        )
        deliveries.create_unique_constraint(
            op.f("uq_deliveries_broadcast_id_chat_id_thread_id"),
            ["broadcast_id", "chat_id", "thread_id"],
        )
        deliveries.create_unique_constraint(op.f("uq_deliveries_digest_id"), ["digest_id"])
        deliveries.create_check_constraint(op.f("ck_deliveries_one_item"), _ONE_ITEM)
        deliveries.create_foreign_key(
            op.f("fk_deliveries_digest_id_digests"),
            "digests",
            ["digest_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE kind = 'digest' OR thread_id <> 0")
    with op.batch_alter_table("deliveries") as deliveries:
        deliveries.drop_constraint(op.f("fk_deliveries_digest_id_digests"), type_="foreignkey")
        deliveries.drop_constraint(op.f("ck_deliveries_one_item"), type_="check")
        deliveries.drop_constraint(op.f("uq_deliveries_digest_id"), type_="unique")
        deliveries.drop_constraint(
            op.f("uq_deliveries_broadcast_id_chat_id_thread_id"), type_="unique"
        )
        deliveries.drop_constraint(
            op.f("uq_deliveries_article_id_chat_id_thread_id"), type_="unique"
        )
        deliveries.create_unique_constraint(
            op.f("uq_deliveries_article_id_chat_id"), ["article_id", "chat_id"]
        )
        deliveries.create_unique_constraint(
            op.f("uq_deliveries_broadcast_id_chat_id"), ["broadcast_id", "chat_id"]
        )
        deliveries.create_check_constraint(op.f("ck_deliveries_one_item"), _ONE_ITEM_BEFORE)
        deliveries.drop_column("thread_id")
        deliveries.drop_column("digest_id")
    op.drop_table("digests")
    op.drop_table("forum_topics")
    op.drop_column("broadcasts", "urgent")
    op.drop_column("articles", "published_by")
    with op.batch_alter_table("chats") as chats:
        chats.drop_column("timezone")
        chats.drop_column("quiet_until")
        chats.drop_column("quiet_from")
        chats.drop_column("digest_weekday")
        chats.drop_column("digest_hour")
        chats.drop_column("delivery_mode")
