"""trust boundaries: a case's sender mark ("not_buyer", "unverified") and the case of another
customer it names (related_case_id); the contact form's posts, counted for its rate limit

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_mark", sa.String(32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("related_case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_cases_related_case_id_cases", "cases", ["related_case_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_cases_related_case_id", ["related_case_id"])
    op.create_table(
        "contact_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_posts"),
    )
    op.create_index("ix_contact_posts_key_at", "contact_posts", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_contact_posts_key_at", table_name="contact_posts")
    op.drop_table("contact_posts")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_related_case_id")
        batch_op.drop_constraint("fk_cases_related_case_id_cases", type_="foreignkey")
        batch_op.drop_column("related_case_id")
        batch_op.drop_column("sender_mark")
