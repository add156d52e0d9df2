"""satisfaction ratings and notifications: ``case_ratings`` (one row per signed, single-use
rating link; the rating, its comment and a bad rating's flag), ``notification_choices`` (what
each desk user hears of, at once or in the daily digest), ``notification_digest_items`` (what
waits for the digest), and ``outbox.case_id`` nullable (a digest is about many cases)

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("issued_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("rated_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("flag_cleared_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("flag_cleared_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_ratings_case_id_cases", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_ratings"),
        sa.UniqueConstraint("token", name="uq_case_ratings_token"),
    )
    op.create_index("ix_case_ratings_case_id", "case_ratings", ["case_id"])
    op.create_table(
        "notification_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notification_choices_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_choices"),
        sa.UniqueConstraint("user_id", "topic", name="uq_notification_choices_user_id_topic"),
    )
    op.create_table(
        "notification_digest_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notification_digest_items_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_notification_digest_items_case_id_cases", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_digest_items"),
        sa.UniqueConstraint(
            "user_id", "event_id", "topic", name="uq_notification_digest_items_user_id_event_id_topic"
        ),
    )
    op.create_index(
        "ix_notification_digest_items_sent_at_user_id", "notification_digest_items", ["sent_at", "user_id"]
    )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # mail about no one case cannot stay in a table whose every row names a case
    op.execute("DELETE FROM outbox WHERE case_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_notification_digest_items_sent_at_user_id", table_name="notification_digest_items")
    op.drop_table("notification_digest_items")
    op.drop_table("notification_choices")
    op.drop_index("ix_case_ratings_case_id", table_name="case_ratings")
    op.drop_table("case_ratings")
