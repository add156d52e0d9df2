"""case assignment to desk users and full-text search of cases (placeholder reserved for parallel work; filled in by the change that needs it)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
