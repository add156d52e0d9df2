"""the Shopify catalogue, webhook deliveries, fulfilment events and disputes; policy versions;
IMAP bookkeeping and the mail outbox; imported reviews; orders keep their Shopify id

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.adapters.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=500), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("polled_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_state")),
        sa.UniqueConstraint("mailbox", name=op.f("uq_mailbox_state_mailbox")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("effective_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("added_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_policy_versions_version")),
    )
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_versions_effective_at"), ["effective_at"], unique=False)

    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("variant_key", sa.String(length=500), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("product_type", sa.String(length=200), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("gtin", sa.String(length=64), nullable=False),
        sa.Column("price", aftersales.adapters.db.types.Money(precision=19, scale=4), nullable=True),
        sa.Column(
            "compare_at_price", aftersales.adapters.db.types.Money(precision=19, scale=4), nullable=True
        ),
        sa.Column("inventory", sa.Integer(), nullable=True),
        sa.Column("image_link", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("updated_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("handle", "variant_key", name=op.f("uq_product_variants_handle")),
    )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_variants_gtin"), ["gtin"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_variants_sku"), ["sku"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("received_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("webhook_id", name=op.f("uq_webhook_deliveries_webhook_id")),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shopify_id", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("network_reason_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("amount", aftersales.adapters.db.types.Money(precision=19, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("evidence_due_by", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("evidence_sent_on", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("initiated_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finalized_on", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_disputes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("shopify_id", name=op.f("uq_disputes_shopify_id")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_disputes_order_number"), ["order_number"], unique=False)

    op.create_table(
        "fulfillment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("shopify_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("happened_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_fulfillment_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_events")),
        sa.UniqueConstraint("order_id", "shopify_id", name=op.f("uq_fulfillment_events_order_id")),
    )
    with op.batch_alter_table("fulfillment_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fulfillment_events_order_id"), ["order_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("in_reply_to", sa.String(length=998), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("queued_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_outbox_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_status"), ["status"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reviewer_email", sa.String(length=320), nullable=False),
        sa.Column("reviewer_name", sa.String(length=200), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("product_handle", sa.String(length=255), nullable=False),
        sa.Column("reviewed_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", aftersales.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reviews_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_reviews_source")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_reviewer_email"), ["reviewer_email"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_sku"), ["sku"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shopify_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("financial_status", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.create_unique_constraint(batch_op.f("uq_orders_shopify_id"), ["shopify_id"])


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_orders_shopify_id"), type_="unique")
        batch_op.drop_column("financial_status")
        batch_op.drop_column("shopify_id")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_sku"))
        batch_op.drop_index(batch_op.f("ix_reviews_reviewer_email"))
        batch_op.drop_index(batch_op.f("ix_reviews_case_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_case_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("fulfillment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfillment_events_order_id"))

    op.drop_table("fulfillment_events")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_order_number"))
        batch_op.drop_index(batch_op.f("ix_disputes_case_id"))

    op.drop_table("disputes")
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_variants_sku"))
        batch_op.drop_index(batch_op.f("ix_product_variants_gtin"))

    op.drop_table("product_variants")
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_versions_effective_at"))

    op.drop_table("policy_versions")
    op.drop_table("mailbox_state")
