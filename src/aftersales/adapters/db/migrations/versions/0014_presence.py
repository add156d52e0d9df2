"""who has a case open (presence): the ``case_presence`` table, one row per user and case with
the last time the user's case page said it was open (a row older than a minute means gone)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_presence_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_case_presence_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_presence"),
        sa.UniqueConstraint("case_id", "user_id", name="uq_case_presence_case_id_user_id"),
    )
    op.create_index("ix_case_presence_seen_at", "case_presence", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_case_presence_seen_at", table_name="case_presence")
    op.drop_table("case_presence")
