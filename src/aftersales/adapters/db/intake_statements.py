"""The statements an intake batch sends (adapters/db/intake_batch.py), built once: a statement
object reused with new parameters hits SQLAlchemy's compiled cache directly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.types import UtcDateTime
from aftersales.domain.cases import OPEN_STATUSES

OPEN = frozenset(s.value for s in OPEN_STATUSES)
_M, _C, _E = t.messages, t.cases, t.events

STORED_KEYS = select(_M.c.dedupe_key).where(_M.c.dedupe_key.in_(bindparam("keys", expanding=True)))
THREADS = select(_M.c.message_id, _M.c.case_id, _M.c.id).where(
    _M.c.message_id.in_(bindparam("ids", expanding=True))
)
OPEN_OF = select(_C.c.id, _C.c.customer_id, _C.c.order_number).where(
    _C.c.customer_id.in_(bindparam("customers", expanding=True)),
    _C.c.order_number.in_(bindparam("orders", expanding=True)),
    _C.c.status.in_(sorted(OPEN)),
)
CASE_ROWS = (
    select(
        _C,
        t.customers.c.email.label("customer"),
        t.users.c.email.label("assignee_email"),
        t.users.c.name.label("assignee_name"),
        exists()
        .where(t.automation_holds.c.case_id == _C.c.id, t.automation_holds.c.until.is_(None))
        .label("held_"),
    )
    .outerjoin(t.customers, t.customers.c.id == _C.c.customer_id)
    .outerjoin(t.users, t.users.c.id == _C.c.assignee_user_id)
    .where(_C.c.id.in_(bindparam("ids", expanding=True)))
)
TIMES = (
    select(_M.c.case_id, _M.c.sent_at, _M.c.direction, _M.c.promised_update_at)
    .where(_M.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(_M.c.sent_at, _M.c.id)
)
EVENTS = select(_E).where(_E.c.case_id.in_(bindparam("ids", expanding=True))).order_by(_E.c.at, _E.c.id)
EVIDENCE = (
    select(t.evidence_items)
    .where(t.evidence_items.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.evidence_items.c.id)
)
BUYERS = (
    select(t.orders.c.number, t.customers.c.email, t.customers.c.name)
    .join(t.customers, t.customers.c.id == t.orders.c.customer_id)
    .where(t.orders.c.number.in_(bindparam("numbers", expanding=True)))
)
CUSTOMERS = select(t.customers.c.email, t.customers.c.id).where(
    t.customers.c.email.in_(bindparam("emails", expanding=True))
)
LAST_CASE_ID = select(func.max(_C.c.id))
# a message's files name it by its key: the message needs no id back from its insert
ADD_MESSAGE_FILES = insert(t.attachments).values(
    message_id=select(_M.c.id).where(_M.c.dedupe_key == bindparam("dedupe_key_")).scalar_subquery()
)
UPDATE_CASE = update(_C).where(_C.c.id == bindparam("case_id_"))
UPDATE_EVIDENCE = update(t.evidence_items).where(
    t.evidence_items.c.case_id == bindparam("case_id_"), t.evidence_items.c.key == bindparam("key_")
)
LAST_MESSAGE = (
    update(_C)
    .where(
        _C.c.id == bindparam("case_id_"),
        (_C.c.last_message_at.is_(None)) | (_C.c.last_message_at <= bindparam("sent_at_")),
    )
    .values(
        last_message_preview=bindparam("preview_"),
        last_message_direction=bindparam("direction_"),
        last_message_at=bindparam("sent_at_"),
    )
)


# PostgreSQL: the chunk's customers made or locked, one statement of fixed text (a statement
# that grows with its rows is parsed again by the driver each time). Setting the name to
# itself changes nothing, but locks the row (as an update of no key: other writers' foreign
# keys to it do not wait) and returns its id.
LOCK_CUSTOMERS = text(
    "INSERT INTO customers (email, name, created_at) "
    "SELECT * FROM unnest(CAST(:emails AS varchar[]), CAST(:names AS varchar[]), "
    "CAST(:ats AS timestamptz[])) "
    "ON CONFLICT (email) DO UPDATE SET name = customers.name RETURNING email, id"
)
# PostgreSQL: ids for the cases about to be inserted, taken from the sequence in order
MOMENT = UtcDateTime()  # the column type's checks, for the moments the text statement sends
NEXT_CASE_IDS = text("SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, :n)")
ADD_CUSTOMERS = sqlite_insert(t.customers).on_conflict_do_nothing(index_elements=[t.customers.c.email])
SCREEN = {
    name: dialect_insert(t.screened).on_conflict_do_nothing(index_elements=[t.screened.c.dedupe_key])
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def insert_cases(db: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new cases in one executemany (pipelined by psycopg); their ids, in order."""
    if db.dialect.name == "postgresql":
        ids = sorted(int(i) for i in db.execute(NEXT_CASE_IDS, {"n": len(rows)}).scalars())
        db.execute(insert(t.cases), [row | {"id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    # SQLite returns ids in order only a statement a row; one insert of all the rows takes
    # consecutive ids after the largest (the write lock is held: no other writer is between)
    db.execute(insert(t.cases), rows)
    last = int(db.execute(LAST_CASE_ID).scalar_one())
    return list(range(last - len(rows) + 1, last + 1))
