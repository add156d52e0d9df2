"""case assignment to desk users and full-text search of cases: ``cases.assignee_user_id``;
the queue's new orders (``queue_order`` re-keyed route risk first, ``due_order`` for "most
overdue"); the last message's one-line preview on the case; full-text search of messages and
customers (SQLite FTS5 tables kept by triggers, PostgreSQL GIN indexes over tsvector
expressions), filled for the rows already stored

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.db.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The numbers of adapters/db/queue.py as this migration wrote them (frozen copies: a later
# change there must not change what this migration did).
_NEVER = 99_999_999_999
_SLA_STEP = 10**11
_ROUTE_STEP = 10**12
_STAGE_STEP = 10**13
_RISK_ORDER = (
    "chargeback_risk",
    "wrong_item",
    "damaged_item",
    "shipping_delay",
    "cancel_or_change",
    "refund_return",
    "review",
    "pre_purchase",
    "repeat_purchase",
    "other",
)
_OPEN = ("new", "open", "waiting_on_customer")
_NEVER_PAUSED = {"escalation", "dispute_evidence"}
_OWED_AFTER_ANSWER = _NEVER_PAUSED | {"next_update"}
_CHUNK = 2_000

# PostgreSQL: the tsvector expressions the GIN indexes are built on; adapters/db/search.py
# queries with the very same text, or the planner would not use them. 'simple': no stemming,
# the store writes in several languages. The text is capped: a tsvector holds at most 1 MB.
PG_MESSAGE_TEXT = "to_tsvector('simple'::regconfig, left(subject || ' ' || body, 100000))"
PG_CUSTOMER_TEXT = "to_tsvector('simple'::regconfig, name || ' ' || translate(email, '@.', '  '))"
_NEW_INDEXES = {
    "ix_cases_queue_order": ["queue_order"],
    "ix_cases_route_queue": ["route", "queue_order"],
    "ix_cases_status_queue": ["status", "queue_order"],
    "ix_cases_due_order": ["due_order"],
    "ix_cases_route_due": ["route", "due_order"],
    "ix_cases_assignee_queue": ["assignee_user_id", "queue_order"],
    "ix_cases_lead_queue": ["lead_name", "queue_order"],
    "ix_cases_lead_role_queue": ["lead_role", "queue_order"],
    "ix_cases_order_number": ["order_number"],
}

# SQLite: FTS5 tables over the stored rows (external content: the text is not stored twice),
# kept in the same transaction as every insert, update and delete by triggers.
_SQLITE_SEARCH = {
    "messages": ("messages_search", ("subject", "body")),
    "customers": ("customers_search", ("name", "email")),
}


def upgrade() -> None:
    _add_columns()
    _backfill()
    op.drop_index("ix_cases_open_queue", table_name="cases")
    op.drop_index("ix_cases_open_route_queue", table_name="cases")
    op.drop_index("ix_cases_route", table_name="cases")  # (route, queue_order) answers it
    for name, columns in _NEW_INDEXES.items():
        op.create_index(name, "cases", columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_messages_search ON messages USING gin ({PG_MESSAGE_TEXT})")
        op.execute(f"CREATE INDEX ix_customers_search ON customers USING gin ({PG_CUSTOMER_TEXT})")
    else:
        for table, (search, searched) in _SQLITE_SEARCH.items():
            _sqlite_search(table, search, searched)


def _add_columns() -> None:
    # Columns are added in place (ALTER TABLE ... ADD COLUMN), never by copying the table: on
    # SQLite a copy drops the old table, and that cascades to its messages and events.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE cases ADD COLUMN assignee_user_id INTEGER "
            "CONSTRAINT fk_cases_assignee_user_id_users REFERENCES users (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("cases", sa.Column("assignee_user_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_cases_assignee_user_id_users",
            "cases",
            "users",
            ["assignee_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("cases", sa.Column("due_order", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column(
        "cases", sa.Column("last_message_preview", sa.String(200), nullable=False, server_default="")
    )
    op.add_column(
        "cases", sa.Column("last_message_direction", sa.String(16), nullable=False, server_default="")
    )
    op.add_column("cases", sa.Column("last_message_at", UtcDateTime(timezone=True), nullable=True))


_cases = sa.table(
    "cases",
    sa.column("id", sa.Integer()),
    sa.column("route", sa.String()),
    sa.column("status", sa.String()),
    sa.column("clocks", sa.JSON()),
    sa.column("risk", sa.Integer()),
    sa.column("next_due_at", UtcDateTime()),
)
_messages = sa.table(
    "messages",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("direction", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("sent_at", UtcDateTime()),
)
_UPDATE = sa.text(
    "UPDATE cases SET risk = :risk, next_due_at = :due, queue_order = :queue_order, "
    "due_order = :due_order, last_message_preview = :preview, last_message_direction = :direction, "
    "last_message_at = :at WHERE id = :id"
).bindparams(sa.bindparam("due", type_=UtcDateTime()), sa.bindparam("at", type_=UtcDateTime()))


def _backfill() -> None:
    """Every case's preview, and its risk, next due time and places in both orders as the
    queue now reads them (from the clocks it stored), a chunk of cases at a time."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = list(
            bind.execute(sa.select(_cases).where(_cases.c.id > last).order_by(_cases.c.id).limit(_CHUNK))
        )
        if not rows:
            return
        latest = dict(_latest_messages(rows[0].id, rows[-1].id))
        bind.execute(_UPDATE, [_queue_values(row, latest.get(row.id)) for row in rows])
        last = rows[-1].id


def _latest_messages(first: int, last: int) -> Iterator[tuple[int, Any]]:
    order = sa.func.row_number().over(
        partition_by=_messages.c.case_id, order_by=(_messages.c.sent_at.desc(), _messages.c.id.desc())
    )
    ranked = (
        sa.select(
            _messages.c.case_id,
            _messages.c.direction,
            sa.func.substr(_messages.c.body, 1, 1000).label("body"),
            _messages.c.sent_at,
            order.label("n"),
        )
        .where(_messages.c.case_id.between(first, last))
        .subquery()
    )
    for row in op.get_bind().execute(sa.select(ranked).where(ranked.c.n == 1)):
        yield row.case_id, row


def _queue_values(case: Any, message: Any) -> dict[str, Any]:
    clocks = case.clocks if not isinstance(case.clocks, str) else json.loads(case.clocks)
    status = case.status
    risk, due = _urgency(clocks or [], waiting=status == "waiting_on_customer", answered=_answered(message))
    if status not in _OPEN:
        risk, due = case.risk, case.next_due_at
    seconds = int(due.timestamp()) if due is not None else _NEVER
    closed = status not in _OPEN
    stage = 2 if closed else 1 if status == "waiting_on_customer" and risk == 0 else 0
    rank = _RISK_ORDER.index(case.route) if case.route in _RISK_ORDER else len(_RISK_ORDER) - 1
    return {
        "id": case.id,
        "risk": risk,
        "due": due,
        "queue_order": stage * _STAGE_STEP + rank * _ROUTE_STEP + (2 - risk) * _SLA_STEP + seconds,
        "due_order": (_SLA_STEP if closed else 0) + seconds,
        "preview": _preview(message.body) if message is not None else "",
        "direction": message.direction if message is not None else "",
        "at": message.sent_at if message is not None else None,
    }


def _answered(message: Any) -> bool:
    return message is not None and message.direction == "outbound"


def _urgency(
    clocks: list[Mapping[str, Any]], *, waiting: bool, answered: bool
) -> tuple[int, datetime | None]:
    owed = _NEVER_PAUSED if waiting else _OWED_AFTER_ANSWER if answered else None
    running = [c for c in clocks if (owed is None or c.get("name") in owed) and c.get("due_at")]
    states = {c.get("state") for c in running}
    risk = 2 if "breached" in states else 1 if "at_risk" in states else 0
    dues = [datetime.fromisoformat(c["due_at"]).astimezone(UTC) for c in running]
    return risk, min(dues, default=None)


def _preview(text: str, width: int = 160) -> str:
    line = " ".join((text or "").split())
    if len(line) <= width:
        return line
    cut = line[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip(" ,.;:-") + "…"


def _sqlite_search(table: str, search: str, columns: tuple[str, ...]) -> None:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE {search} USING fts5({names}, content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    forget = f"INSERT INTO {search}({search}, rowid, {names}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {search}(rowid, {names}) VALUES (new.id, {new});"
    op.execute(f"CREATE TRIGGER {search}_insert AFTER INSERT ON {table} BEGIN {learn} END")
    op.execute(f"CREATE TRIGGER {search}_delete AFTER DELETE ON {table} BEGIN {forget} END")
    op.execute(
        f"CREATE TRIGGER {search}_update AFTER UPDATE OF {names} ON {table} BEGIN {forget} {learn} END"
    )
    op.execute(f"INSERT INTO {search}({search}) VALUES ('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customers_search")
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
    else:
        for _table, (search, _columns) in _SQLITE_SEARCH.items():
            for change in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {search}_{change}")
            op.execute(f"DROP TABLE IF EXISTS {search}")
    for name in _NEW_INDEXES:
        op.drop_index(name, table_name="cases")
    # the queue's order as 0002 keyed it: breached, at risk, on track, then the due time
    op.execute(f"UPDATE cases SET queue_order = (2 - risk) * {_SLA_STEP} + (queue_order % {_SLA_STEP})")
    op.create_index("ix_cases_open_queue", "cases", ["is_open", "queue_order"])
    op.create_index("ix_cases_open_route_queue", "cases", ["is_open", "route", "queue_order"])
    op.create_index("ix_cases_route", "cases", ["route"])
    if bind.dialect.name == "postgresql":
        op.drop_constraint("fk_cases_assignee_user_id_users", "cases", type_="foreignkey")
    # dropped in place (SQLite 3.35+), for the reason given in _add_columns
    for column in (
        "last_message_at",
        "last_message_direction",
        "last_message_preview",
        "due_order",
        "assignee_user_id",
    ):
        op.execute(f"ALTER TABLE cases DROP COLUMN {column}")
