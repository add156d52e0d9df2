"""outbound webhooks: the receivers an admin registered (``webhook_endpoints``), one
delivery per event and receiver (``webhook_sends``) and each HTTP attempt at it
(``webhook_send_attempts``)

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("removed_at", UtcDateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "webhook_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger()),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True)),
        sa.Column("claimed_at", UtcDateTime(timezone=True)),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.String(1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_sends"),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name="fk_webhook_sends_endpoint_id_webhook_endpoints",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_sends_endpoint_id"),
    )
    op.create_index("ix_webhook_sends_status_next_attempt_at", "webhook_sends", ["status", "next_attempt_at"])
    op.create_table(
        "webhook_send_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("excerpt", sa.String(200), nullable=False),
        sa.Column("error", sa.String(1000), nullable=False),
        sa.Column("milliseconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_send_attempts"),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["webhook_sends.id"],
            name="fk_webhook_send_attempts_send_id_webhook_sends",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_webhook_send_attempts_send_id", "webhook_send_attempts", ["send_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_send_attempts_send_id", table_name="webhook_send_attempts")
    op.drop_table("webhook_send_attempts")
    op.drop_index("ix_webhook_sends_status_next_attempt_at", table_name="webhook_sends")
    op.drop_table("webhook_sends")
    op.drop_table("webhook_endpoints")
