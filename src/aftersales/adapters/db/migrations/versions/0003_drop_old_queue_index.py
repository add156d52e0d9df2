"""drop the old queue index: the queue walks (is_open, queue_order) since 0002

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_queue", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_queue", "cases", ["status", "risk", "next_due_at"])
