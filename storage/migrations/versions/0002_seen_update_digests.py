"""Seen updates carry a digest of their content and are pruned by age: update ids that start
over (after a Bot API server restart, or a week without updates) are no longer taken for
repeats. Rows recorded before keep a NULL digest and match by id alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 07:36:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("seen_updates", sa.Column("digest", sa.String(length=16), nullable=True))
    op.create_index(op.f("ix_seen_updates_seen_at"), "seen_updates", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_updates_seen_at"), table_name="seen_updates")
    # SQLite drops a column by rebuilding the table; batch mode does that (and is plain on PG).
    with op.batch_alter_table("seen_updates") as batch:
        batch.drop_column("digest")
