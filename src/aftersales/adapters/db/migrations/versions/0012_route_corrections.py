"""route corrections as labelled examples, case language and route checks: the cases'
``route_check`` (why a person should check the route) and ``language`` columns, and the
``route_labels`` table (a re-route or a "confirm route": the message text and its route)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("route_check", sa.String(200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("language", sa.String(16), nullable=False, server_default=""))
    op.create_table(
        "route_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("labelled_by", sa.String(200), nullable=False),
        sa.Column("labelled_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_route_labels_case_id_cases", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_route_labels"),
    )
    op.create_index("ix_route_labels_case_id", "route_labels", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_route_labels_case_id", table_name="route_labels")
    op.drop_table("route_labels")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("route_check")
