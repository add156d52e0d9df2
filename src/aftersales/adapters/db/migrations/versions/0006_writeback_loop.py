"""the write-back loop: tasks from the weekly review and the feed audit, review requests; the
weekly review's dimensions on cases (SKU, variant, carrier, reason) and an index on opened_at

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.adapters.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writeback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("owner_role", sa.String(length=32), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("next_review_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=False),
        sa.Column("close_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_tasks")),
        sa.UniqueConstraint("key", name=op.f("uq_writeback_tasks_key")),
    )
    with op.batch_alter_table("writeback_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_writeback_tasks_status"), ["status"], unique=False)

    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("delivered_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("log", sa.JSON(), nullable=False),
        sa.Column("updated_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_review_requests_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
        sa.UniqueConstraint("order_number", name=op.f("uq_review_requests_order_number")),
    )
    with op.batch_alter_table("review_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_requests_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_requests_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_requests_status"), ["status"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("variant", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("carrier", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("reason", sa.String(length=100), server_default="", nullable=False))
        batch_op.create_index("ix_cases_opened_at", ["opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_opened_at")
        batch_op.drop_column("reason")
        batch_op.drop_column("carrier")
        batch_op.drop_column("variant")
        batch_op.drop_column("sku")

    with op.batch_alter_table("review_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_requests_status"))
        batch_op.drop_index(batch_op.f("ix_review_requests_due_at"))
        batch_op.drop_index(batch_op.f("ix_review_requests_customer_id"))

    op.drop_table("review_requests")
    with op.batch_alter_table("writeback_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_writeback_tasks_status"))

    op.drop_table("writeback_tasks")
