"""history import: each conversation imported from another tool, once per (source, id),
with its case and its history's first-response and resolution business hours

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("first_response_hours", sa.Float(), nullable=True),
        sa.Column("resolution_hours", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name="fk_imported_conversations_case_id_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_imported_conversations"),
        sa.UniqueConstraint(
            "source", "conversation_id", name="uq_imported_conversations_source_conversation_id"
        ),
    )
    op.create_index("ix_imported_conversations_case_id", "imported_conversations", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_imported_conversations_case_id", table_name="imported_conversations")
    op.drop_table("imported_conversations")
