"""one indexed number for the queue's order, an open flag, and the holds' case index

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The same numbers as adapters/db/repository.py::queue_order, for rows written before.
_NEVER = 99_999_999_999


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("queue_order", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute(
        "UPDATE cases SET is_open = (status IN ('new', 'open', 'waiting_on_customer')), "
        f"queue_order = (2 - risk) * 100000000000 + {_NEVER} "
        "WHERE next_due_at IS NULL"
    )
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("risk", sa.Integer()),
        sa.column("next_due_at", sa.DateTime()),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(cases).where(cases.c.next_due_at.is_not(None))):
        due = row.next_due_at
        seconds = int((due if due.tzinfo else due.replace(tzinfo=UTC)).timestamp())
        connection.execute(
            sa.text("UPDATE cases SET is_open = :open, queue_order = :order WHERE id = :id"),
            {
                "open": row.status in ("new", "open", "waiting_on_customer"),
                "order": (2 - row.risk) * 100_000_000_000 + seconds,
                "id": row.id,
            },
        )
    op.create_index("ix_cases_open_queue", "cases", ["is_open", "queue_order"])
    op.create_index("ix_cases_open_route_queue", "cases", ["is_open", "route", "queue_order"])
    # intake asks "is this case's buyer already on hold?" for every message that pauses automation
    op.create_index("ix_automation_holds_case_id", "automation_holds", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_automation_holds_case_id", table_name="automation_holds")
    op.drop_index("ix_cases_open_route_queue", table_name="cases")
    op.drop_index("ix_cases_open_queue", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("is_open")
        batch.drop_column("queue_order")
