"""Engagement signals: reaction counts per copy, users' reactions where Telegram names them,
article events (shares, opens, autocards, clicks), subscription events and tracked link codes.

New tables, and the deliveries' index on chat_id widened to (chat_id, message_id) so a
reaction finds the article its message shows: every existing row stays as it was. Subscription
events start with this revision; chats subscribed before it count as subscribed throughout
their history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:30:26.977312
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _article_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["article_id"],
        ["articles.id"],
        name=op.f(f"fk_{table}_article_id_articles"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_index(
        op.f("ix_deliveries_chat_id_message_id"),
        "deliveries",
        ["chat_id", "message_id"],
        unique=False,
    )
    op.drop_index(op.f("ix_deliveries_chat_id"), table_name="deliveries")
    op.create_table(
        "reaction_counts",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _article_key("reaction_counts"),
        sa.PrimaryKeyConstraint(
            "chat_id", "message_id", "kind", "key", name=op.f("pk_reaction_counts")
        ),
    )
    op.create_index(
        op.f("ix_reaction_counts_article_id"), "reaction_counts", ["article_id"], unique=False
    )
    op.create_table(
        "user_reactions",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _article_key("user_reactions"),
        sa.PrimaryKeyConstraint(
            "chat_id", "message_id", "user_id", "kind", "key", name=op.f("pk_user_reactions")
        ),
    )
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("chat_kind", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _article_key("article_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_events")),
    )
    op.create_index(
        op.f("ix_article_events_article_id_kind"),
        "article_events",
        ["article_id", "kind"],
        unique=False,
    )
    op.create_table(
        "subscription_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_kind", sa.String(length=32), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_subscription_events_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_events")),
    )
    op.create_index(op.f("ix_subscription_events_at"), "subscription_events", ["at"], unique=False)
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("chat_kind", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _article_key("link_codes"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
        sa.UniqueConstraint(
            "article_id", "chat_kind", name=op.f("uq_link_codes_article_id_chat_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("link_codes")
    op.drop_index(op.f("ix_subscription_events_at"), table_name="subscription_events")
    op.drop_table("subscription_events")
    op.drop_index(op.f("ix_article_events_article_id_kind"), table_name="article_events")
    op.drop_table("article_events")
    op.drop_table("user_reactions")
    op.drop_index(op.f("ix_reaction_counts_article_id"), table_name="reaction_counts")
    op.drop_table("reaction_counts")
    op.create_index(op.f("ix_deliveries_chat_id"), "deliveries", ["chat_id"], unique=False)
    op.drop_index(op.f("ix_deliveries_chat_id_message_id"), table_name="deliveries")
