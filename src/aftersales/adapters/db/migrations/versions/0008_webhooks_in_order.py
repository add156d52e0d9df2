"""Shopify objects keep the updated_at they were written from; refunds keyed by their own id

An order and a dispute remember the shop's ``updated_at`` of the payload they were last
written from, so a payload that arrives late changes nothing. A refund keeps Shopify's own
id, unique per order, so it is stored once and no order payload deletes it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shopify_updated_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shopify_updated_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shopify_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_refunds_order_id", ["order_id", "shopify_id"])


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint("uq_refunds_order_id", type_="unique")
        batch_op.drop_column("shopify_id")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_column("shopify_updated_at")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("shopify_updated_at")
