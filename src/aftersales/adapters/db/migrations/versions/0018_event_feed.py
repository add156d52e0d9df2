"""event feed: where each consumer of the case timeline (outbound webhooks, notifications)
has read up to (``event_cursors``), and which cases came from another tool's history
(``cases.imported_from``: their events are history, never relayed)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_cursors",
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name="pk_event_cursors"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("imported_from", sa.String(32), nullable=False, server_default=""))
    # the feed starts here for every consumer: a webhook registered or a notification chosen
    # before the first job run still hears of the next case (a desk's past is not told)
    for consumer in ("webhooks", "notifications"):
        op.execute(
            sa.text(
                "INSERT INTO event_cursors (consumer, last_event_id) "
                "SELECT :consumer, COALESCE(MAX(id), 0) FROM events"
            ).bindparams(consumer=consumer)
        )


def downgrade() -> None:
    # dropped in place (SQLite 3.35+): a batch copy of ``cases`` would have to drop and remake
    # the search triggers of migration 0013 around it
    op.execute("ALTER TABLE cases DROP COLUMN imported_from")
    op.drop_table("event_cursors")
