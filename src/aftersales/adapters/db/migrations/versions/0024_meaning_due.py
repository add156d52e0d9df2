"""Cases routed by their words alone wait for the semantic reader: cases.meaning_due

Revision ID: 0024
Revises: 0023

Bulk intake leaves the semantic reader out for speed. A case it would have read is marked,
and the re-read job (services/rereading.py) reads it again by meaning. Existing cases are
not marked: they were routed as their intake chose.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("meaning_due", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_cases_meaning_due", "cases", ["meaning_due"])


def downgrade() -> None:
    op.drop_index("ix_cases_meaning_due", table_name="cases")
    # dropped in place (SQLite 3.35+), as in 0023
    op.execute("ALTER TABLE cases DROP COLUMN meaning_due")
