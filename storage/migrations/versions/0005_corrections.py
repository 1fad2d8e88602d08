"""Corrections and retractions that reach every copy: articles count their confirmed
corrections and keep the line a corrected card shows; corrections, the ledger of their copy
changes (one row per copy, so a restart never changes a copy twice), and the card copies the
delivery ledger does not describe whole (cards shown on request, inline copies, the photo above
an image card).

Every existing article starts at revision 0 with no correction line; every other row stays as
it was.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: a migration keeps the schema of its own revision.
_ONE_COPY = "(chat_id IS NOT NULL AND message_id IS NOT NULL) OR inline_message_id IS NOT NULL"


def upgrade() -> None:
    op.add_column(
        "articles", sa.Column("revision", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("articles", sa.Column("correction", sa.Text(), nullable=True))
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("edited", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_corrections_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(op.f("ix_corrections_status"), "corrections", ["status"], unique=False)
    op.create_index(
        op.f("ix_corrections_article_id_id"), "corrections", ["article_id", "id"], unique=False
    )
    op.create_table(
        "copy_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("inline_message_id", sa.String(), nullable=True),
        sa.Column("photo_message_id", sa.Integer(), nullable=True),
        sa.Column("poll_message_id", sa.Integer(), nullable=True),
        sa.Column("chat_kind", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("failure", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_ONE_COPY, name=op.f("ck_copy_changes_target")),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_copy_changes_correction_id_corrections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_message_id"],
            ["poll_messages.id"],
            name=op.f("fk_copy_changes_poll_message_id_poll_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_changes")),
        sa.UniqueConstraint(
            "correction_id",
            "chat_id",
            "message_id",
            name=op.f("uq_copy_changes_correction_id_chat_id_message_id"),
        ),
        sa.UniqueConstraint(
            "correction_id",
            "inline_message_id",
            name=op.f("uq_copy_changes_correction_id_inline_message_id"),
        ),
    )
    op.create_index(
        op.f("ix_copy_changes_status_id"), "copy_changes", ["status", "id"], unique=False
    )
    op.create_index(
        op.f("ix_copy_changes_correction_id_status_outcome"),
        "copy_changes",
        ["correction_id", "status", "outcome"],
        unique=False,
    )
    op.create_table(
        "card_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("inline_message_id", sa.String(), nullable=True),
        sa.Column("photo_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_ONE_COPY, name=op.f("ck_card_copies_target")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_card_copies_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_copies")),
        sa.UniqueConstraint(
            "chat_id", "message_id", name=op.f("uq_card_copies_chat_id_message_id")
        ),
        sa.UniqueConstraint("inline_message_id", name=op.f("uq_card_copies_inline_message_id")),
    )
    op.create_index(op.f("ix_card_copies_article_id"), "card_copies", ["article_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_card_copies_article_id"), table_name="card_copies")
    op.drop_table("card_copies")
    op.drop_index(op.f("ix_copy_changes_correction_id_status_outcome"), table_name="copy_changes")
    op.drop_index(op.f("ix_copy_changes_status_id"), table_name="copy_changes")
    op.drop_table("copy_changes")
    op.drop_index(op.f("ix_corrections_article_id_id"), table_name="corrections")
    op.drop_index(op.f("ix_corrections_status"), table_name="corrections")
    op.drop_table("corrections")
    with op.batch_alter_table("articles") as articles:
        articles.drop_column("correction")
        articles.drop_column("revision")
