"""The SLA tick looks only at the cases due a look: cases.next_check_at

Revision ID: 0023
Revises: 0022

Each open case keeps when the passing of time alone next changes one of its clocks (turning
at risk or breached). Existing cases start with NULL: the first tick after the upgrade looks
at every open case once and sets it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("next_check_at", UtcDateTime(timezone=True), nullable=True))
    op.create_index("ix_cases_open_next_check", "cases", ["is_open", "next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_open_next_check", table_name="cases")
    # dropped in place (SQLite 3.35+), as in 0018: a batch copy of ``cases`` would have to
    # drop and remake the search triggers of migration 0013 around it
    op.execute("ALTER TABLE cases DROP COLUMN next_check_at")
