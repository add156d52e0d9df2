"""attachments served by id: the ``attachments`` table, one row per file of a case (a file a
customer's message carried, or one a person uploaded for an evidence item), each with its own
id; the files of the messages already stored are listed in it

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_BATCH = 1_000


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("evidence_key", sa.String(64), nullable=False, server_default=""),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False, server_default=""),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("added_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_attachments_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_attachments_message_id_messages", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
    )
    op.create_index("ix_attachments_case_id", "attachments", ["case_id"])
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"])
    _list_message_files()


def _list_message_files() -> None:
    """A row for every file the stored messages name (their ``attachments`` JSON). Uploads
    made before this revision are named only in their evidence note (by a short hash): they
    cannot be told apart reliably and are not listed."""
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer()),
        sa.column("case_id", sa.Integer()),
        sa.column("author", sa.String()),
        sa.column("sent_at", UtcDateTime(timezone=True)),
        sa.column("attachments", sa.JSON()),
    )
    attachments = sa.table(
        "attachments",
        *(
            sa.column(name)
            for name in ("case_id", "message_id", "filename", "content_type", "size", "sha256", "added_by")
        ),
        sa.column("added_at", UtcDateTime(timezone=True)),
    )
    connection = op.get_bind()
    named = sa.cast(messages.c.attachments, sa.Text()) != "[]"
    query = sa.select(messages).where(named).order_by(messages.c.id)
    rows: list[dict[str, Any]] = []
    for message in connection.execute(query).mappings():
        rows += [_row(message, meta) for meta in message["attachments"] or () if isinstance(meta, dict)]
        if len(rows) >= _BATCH:
            connection.execute(sa.insert(attachments), rows)
            rows = []
    if rows:
        connection.execute(sa.insert(attachments), rows)


def _row(message: Any, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": message["case_id"],
        "message_id": message["id"],
        "filename": str(meta.get("filename") or "attachment")[:255],
        "content_type": str(meta.get("content_type") or "")[:255],
        "size": int(meta.get("size") or 0),
        "sha256": str(meta.get("sha256") or "")[:64],
        "added_by": str(message["author"] or "")[:200],
        "added_at": message["sent_at"],
    }


def downgrade() -> None:
    op.drop_index("ix_attachments_message_id", table_name="attachments")
    op.drop_index("ix_attachments_case_id", table_name="attachments")
    op.drop_table("attachments")
