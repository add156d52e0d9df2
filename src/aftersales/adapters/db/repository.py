"""The case repository on SQLAlchemy Core: one instance per transaction (see ``unit_of_work``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import case_side, ratings
from aftersales.adapters.db import event_feed as feed
from aftersales.adapters.db import notifications as notices
from aftersales.adapters.db import outbox as mail_queue
from aftersales.adapters.db import route_labels as labels_table
from aftersales.adapters.db import schema as t
from aftersales.adapters.db.case_records import case_record, evidence_row, message_row
from aftersales.adapters.db.engine import WRITE_OPTION, transactions
from aftersales.adapters.db.intake_batch import IntakeBatch
from aftersales.adapters.db.queue import QUEUE_KEYS, SUMMARY_COLUMNS, list_queue, queue_fields, summary
from aftersales.adapters.db.search import reaches_message_cap
from aftersales.adapters.db.widths import fitted
from aftersales.adapters.files.atomic import holds, private_folder, write_atomically
from aftersales.domain.attachments import CaseFile
from aftersales.domain.cases import OPEN_STATUSES, CaseNotFound, CaseRecord, CaseStatus, CaseSummary, Event
from aftersales.domain.corrections import RouteLabel
from aftersales.domain.event_feed import FeedConsumer, FeedEvent
from aftersales.domain.evidence import EvidenceItem
from aftersales.domain.messages import AttachmentMeta, Direction, InboundMessage
from aftersales.domain.notifications import DigestLine, Notice, NoticeCase, Subscriber, Timing, Topic
from aftersales.domain.order_side import OtherCase
from aftersales.domain.orders import (
    Address,
    Dispute,
    LineItem,
    OrderFacts,
    Refund,
    ScanStatus,
    TrackingEvent,
    address_or_none,
)
from aftersales.domain.outgoing import Delivery, OutgoingMail, QueuedMail
from aftersales.domain.queue import QueueQuery, message_preview
from aftersales.domain.routes import Route
from aftersales.domain.satisfaction import Rating, RatingLink
from aftersales.domain.shop_events import OrderWriteConflict
from aftersales.ports import ClockInputs

# Attachments larger than this keep their metadata but not their content.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_OPEN = [s.value for s in OPEN_STATUSES]

# The lookups every intake makes, built once: a statement object reused with new parameters
# skips SQLAlchemy's per-call construction and hits its compiled cache directly.
_HAS_MESSAGE = select(exists().where(t.messages.c.dedupe_key == bindparam("key")))
_CUSTOMER = select(t.customers.c.id).where(t.customers.c.email == bindparam("email"))
_ADD_CUSTOMERS = {
    name: dialect_insert(t.customers).on_conflict_do_nothing(index_elements=[t.customers.c.email])
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_ADD_CUSTOMER = {
    name: dialect_insert(t.customers)
    .on_conflict_do_nothing(index_elements=[t.customers.c.email])
    .returning(t.customers.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_OPEN_CASE_FOR = (
    select(t.cases.c.id)
    .where(t.cases.c.customer_id == bindparam("customer"), t.cases.c.order_number == bindparam("order"))
    .where(t.cases.c.status.in_(_OPEN))
    .order_by(t.cases.c.id.desc())
    .limit(1)
)
_ORDER = select(t.orders).where(t.orders.c.number == bindparam("number"))
_ORDER_ID = select(t.orders.c.id).where(t.orders.c.number == bindparam("number"))
_LOCK_ORDER = _ORDER_ID.with_for_update()
_UPDATE_ORDER_ROW = update(t.orders).where(t.orders.c.number == bindparam("number_"))
_ORDER_LINES = (
    select(t.order_lines)
    .where(t.order_lines.c.order_id == bindparam("order_id_"))
    .order_by(t.order_lines.c.id)
)
_ORDER_REFUNDS = (
    select(t.refunds).where(t.refunds.c.order_id == bindparam("order_id_")).order_by(t.refunds.c.id)
)
_ADD_DELIVERY = {
    name: dialect_insert(t.webhook_deliveries)
    .on_conflict_do_nothing(index_elements=[t.webhook_deliveries.c.webhook_id])
    .returning(t.webhook_deliveries.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_ADD_TRACKING_EVENT = {
    name: dialect_insert(t.fulfillment_events)
    .on_conflict_do_nothing(
        index_elements=[t.fulfillment_events.c.order_id, t.fulfillment_events.c.shopify_id]
    )
    .returning(t.fulfillment_events.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
# an order another transaction has just made (or whose Shopify id another order holds) is a
# conflict for the caller to retry, not an IntegrityError
_ADD_ORDER = {
    name: dialect_insert(t.orders).on_conflict_do_nothing().returning(t.orders.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_UPDATE_ORDER = update(t.orders).where(t.orders.c.id == bindparam("order_id_"))
_DROP_ORDER_LINES = delete(t.order_lines).where(t.order_lines.c.order_id == bindparam("order_id_"))
# refunds by Shopify id are the shop's records and are never dropped; a refunded total
# without an id (an export's) is replaced by the next write of the order
_DROP_REFUNDS = delete(t.refunds).where(
    t.refunds.c.order_id == bindparam("order_id_"), t.refunds.c.shopify_id.is_(None)
)
_ADD_ORDER_LINES = insert(t.order_lines)
_ADD_REFUNDS = insert(t.refunds)


def _put_refunds(dialect_insert: Any) -> Any:
    statement = dialect_insert(t.refunds)
    return statement.on_conflict_do_update(
        index_elements=[t.refunds.c.order_id, t.refunds.c.shopify_id],
        set_={name: statement.excluded[name] for name in ("amount", "at", "reason")},
    )


_PUT_REFUNDS = {"postgresql": _put_refunds(pg_insert), "sqlite": _put_refunds(sqlite_insert)}
_QUEUE_STATE = select(t.cases.c.status, t.cases.c.risk, t.cases.c.next_due_at, t.cases.c.route).where(
    t.cases.c.id == bindparam("case_id_")
)
_THREADED = (
    select(t.messages.c.case_id)
    .where(t.messages.c.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.messages.c.id.desc())
    .limit(1)
)
_CASE_EXISTS = select(exists().where(t.cases.c.id == bindparam("case_id_")))
_CASE_ROW = (
    select(
        t.cases,
        t.customers.c.email.label("customer"),
        t.users.c.email.label("assignee_email"),
        t.users.c.name.label("assignee_name"),
    )
    .outerjoin(t.customers, t.customers.c.id == t.cases.c.customer_id)
    .outerjoin(t.users, t.users.c.id == t.cases.c.assignee_user_id)
    .where(t.cases.c.id == bindparam("case_id_"))
)
# the collision guard's lock (services/collisions.py): the case's own columns only, as
# PostgreSQL locks no row of an outer join's nullable side
_LOCKED_CASE_ROW = select(t.cases).where(t.cases.c.id == bindparam("case_id_")).with_for_update()
_EVENTS_AFTER = (
    select(t.events)
    .where(t.events.c.case_id == bindparam("case_id_"), t.events.c.id > bindparam("after"))
    .order_by(t.events.c.id)
)
_UPDATE_CASE = update(t.cases).where(t.cases.c.id == bindparam("case_id_"))
_OPEN_CASE = insert(t.cases).returning(t.cases.c.id)
_ADD_MESSAGE = insert(t.messages).returning(t.messages.c.id)
# the case's last message, kept on the case for the queue's preview: a message sent before the
# one shown (mail arrives out of order) does not replace it
_LAST_MESSAGE = (
    update(t.cases)
    .where(
        t.cases.c.id == bindparam("case_id_"),
        or_(t.cases.c.last_message_at.is_(None), t.cases.c.last_message_at <= bindparam("sent_at_")),
    )
    .values(
        last_message_preview=bindparam("preview_"),
        last_message_direction=bindparam("direction_"),
        last_message_at=bindparam("sent_at_"),
    )
)
_ADD_EVENTS = insert(t.events)
_ADD_EVIDENCE = insert(t.evidence_items)
_UPDATE_EVIDENCE = update(t.evidence_items).where(
    t.evidence_items.c.case_id == bindparam("case_id_"), t.evidence_items.c.key == bindparam("key_")
)
_HELD = select(
    exists().where(
        t.automation_holds.c.case_id == bindparam("case_id_"), t.automation_holds.c.until.is_(None)
    )
)
_HOLD = insert(t.automation_holds)
_TIMELINE = (
    select(t.events).where(t.events.c.case_id == bindparam("case_id_")).order_by(t.events.c.at, t.events.c.id)
)
_MESSAGES_OF = (
    select(t.messages)
    .where(t.messages.c.case_id == bindparam("case_id_"))
    .order_by(t.messages.c.sent_at, t.messages.c.id)
)
# what the clocks read of a case's messages: not their bodies
_MESSAGE_TIMES = (
    select(t.messages.c.sent_at, t.messages.c.direction, t.messages.c.promised_update_at)
    .where(t.messages.c.case_id == bindparam("case_id_"))
    .order_by(t.messages.c.sent_at, t.messages.c.id)
)
# what the SLA tick reads of a chunk of open cases (clock_inputs): three statements a chunk
_OPEN_CASE_IDS = (
    select(t.cases.c.id)
    .where(t.cases.c.status.in_([status.value for status in OPEN_STATUSES]))
    .order_by(t.cases.c.id)
)
_CASE_IDS_TO_CHECK = (
    select(t.cases.c.id)
    .where(
        t.cases.c.is_open.is_(True),  # kept with the status by queue_fields
        or_(t.cases.c.next_check_at.is_(None), t.cases.c.next_check_at <= bindparam("now")),
    )
    .order_by(t.cases.c.id)
)
_DUE_MEANING = (
    select(t.cases.c.id)
    .where(t.cases.c.meaning_due.is_(True))
    .order_by(t.cases.c.id)
    .limit(bindparam("limit"))
)
_MEANING_DUE_COUNT = select(func.count()).select_from(t.cases).where(t.cases.c.meaning_due.is_(True))
_CLOCK_ROWS = select(
    t.cases.c.id,
    t.cases.c.route,
    t.cases.c.status,
    t.cases.c.clocks,
    t.cases.c.risk,
    t.cases.c.next_due_at,
    t.cases.c.next_check_at,
).where(t.cases.c.id.in_(bindparam("ids", expanding=True)))
_CLOCK_MESSAGE_TIMES = (
    select(t.messages.c.case_id, *_MESSAGE_TIMES.selected_columns)
    .where(t.messages.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.messages.c.case_id, t.messages.c.sent_at, t.messages.c.id)
)
_CLOCK_TIMELINES = (
    select(t.events)
    .where(t.events.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(t.events.c.case_id, t.events.c.at, t.events.c.id)
)
_EVIDENCE_OF = (
    select(t.evidence_items)
    .where(t.evidence_items.c.case_id == bindparam("case_id_"))
    .order_by(t.evidence_items.c.id)
)


class SqlCaseRepository:
    def __init__(self, connection: Connection, attachments_dir: Path) -> None:
        self.db = connection
        self.attachments_dir = attachments_dir

    def intake_batch(self, messages: Sequence[InboundMessage], order_numbers: Collection[str]) -> IntakeBatch:
        """A chunk of messages taken in over lookups made once (adapters/db/intake_batch.py)."""
        return IntakeBatch(self, messages, order_numbers)

    # ---------------------------------------------------------------- lookups
    def has_message(self, dedupe_key: str) -> bool:
        return bool(self.db.execute(_HAS_MESSAGE, {"key": dedupe_key}).scalar())

    def case_for_message_ids(self, message_ids: Sequence[str]) -> int | None:
        ids = [m for m in message_ids if m]
        if not ids:
            return None
        return self.db.execute(_THREADED, {"ids": ids}).scalar()

    def open_case_for(self, customer_id: int, order_number: str) -> int | None:
        return self.db.execute(_OPEN_CASE_FOR, {"customer": customer_id, "order": order_number}).scalar()

    def newest_open_case(self, *, customer_id: int | None = None, order_number: str = "") -> int | None:
        query = select(t.cases.c.id).where(t.cases.c.status.in_(_OPEN)).order_by(t.cases.c.id.desc()).limit(1)
        if customer_id is not None:
            query = query.where(t.cases.c.customer_id == customer_id)
        if order_number:
            query = query.where(t.cases.c.order_number == order_number)
        return self.db.execute(query).scalar()

    def related_cases(self, case_id: int) -> list[int]:
        query = select(t.cases.c.id).where(t.cases.c.related_case_id == case_id).order_by(t.cases.c.id)
        return list(self.db.execute(query).scalars())

    def case_exists(self, case_id: int) -> bool:
        return bool(self.db.execute(_CASE_EXISTS, {"case_id_": case_id}).scalar())

    def customer_id(self, email: str, name: str, at: datetime) -> int:
        key = email.lower() or "unknown@invalid"
        found = self.db.execute(_CUSTOMER, {"email": key}).scalar()
        if found is not None:
            return int(found)
        # two first messages from one address can arrive at once: the second insert does
        # nothing and the customer the first one made is read back
        values = {"email": key, "name": name, "created_at": at}
        made = self.db.execute(_ADD_CUSTOMER[self.db.dialect.name], values).scalar()
        return int(made if made is not None else self.db.execute(_CUSTOMER, {"email": key}).scalar_one())

    # ---------------------------------------------------------------- orders
    def order(self, number: str) -> OrderFacts | None:
        row = self.db.execute(_ORDER, {"number": number}).mappings().first()
        if row is None:
            return None
        ids = {"order_id_": row["id"]}
        lines = self.db.execute(_ORDER_LINES, ids).mappings()
        refunds = self.db.execute(_ORDER_REFUNDS, ids).mappings()
        return _order_from(dict(row), list(lines), list(refunds))

    def orders(self, numbers: Sequence[str]) -> dict[str, OrderFacts]:
        rows = {
            r["id"]: dict(r)
            for r in self.db.execute(select(t.orders).where(t.orders.c.number.in_(numbers))).mappings()
        }
        if not rows:
            return {}
        lines: dict[int, list[Any]] = {order_id: [] for order_id in rows}
        refunds: dict[int, list[Any]] = {order_id: [] for order_id in rows}
        for line in self.db.execute(
            select(t.order_lines).where(t.order_lines.c.order_id.in_(rows)).order_by(t.order_lines.c.id)
        ).mappings():
            lines[line["order_id"]].append(line)
        for refund in self.db.execute(
            select(t.refunds).where(t.refunds.c.order_id.in_(rows)).order_by(t.refunds.c.id)
        ).mappings():
            refunds[refund["order_id"]].append(refund)
        return {row["number"]: _order_from(row, lines[oid], refunds[oid]) for oid, row in rows.items()}

    def customer_ids(self, people: Mapping[str, str], at: datetime) -> dict[str, int]:
        emails = {email.lower() or "unknown@invalid": name for email, name in people.items()}
        if not emails:
            return {}
        found = self._customers(emails)
        missing = [{"email": e, "name": n, "created_at": at} for e, n in emails.items() if e not in found]
        if missing:
            self.db.execute(_ADD_CUSTOMERS[self.db.dialect.name], missing)
            found = self._customers(emails)
        return found

    def _customers(self, emails: Mapping[str, str]) -> dict[str, int]:
        query = select(t.customers.c.email, t.customers.c.id).where(t.customers.c.email.in_(list(emails)))
        return {row.email: int(row.id) for row in self.db.execute(query)}

    def save_orders(self, orders: Sequence[tuple[OrderFacts, int | None]], at: datetime) -> None:
        if not orders:
            return
        numbers = [o.number for o, _ in orders]
        query = select(t.orders.c.number, t.orders.c.id).where(t.orders.c.number.in_(numbers))
        known: dict[str, int] = {row.number: row.id for row in self.db.execute(query)}
        fresh = [(o, c) for o, c in orders if o.number not in known]
        changed = [(o, c) for o, c in orders if o.number in known]
        if fresh:
            rows = [_order_values(o) | {"customer_id": c, "updated_at": at} for o, c in fresh]
            made = self.db.execute(
                insert(t.orders).returning(t.orders.c.number, t.orders.c.id, sort_by_parameter_order=True),
                rows,
            )
            known.update({row.number: row.id for row in made})
        for order, customer in changed:
            buyer = {"customer_id": customer} if customer is not None else {}
            self.db.execute(
                _UPDATE_ORDER_ROW, _order_values(order) | buyer | {"updated_at": at, "number_": order.number}
            )
        if changed:
            stale = [known[o.number] for o, _ in changed]
            self.db.execute(delete(t.order_lines).where(t.order_lines.c.order_id.in_(stale)))
            self.db.execute(
                delete(t.refunds).where(t.refunds.c.order_id.in_(stale), t.refunds.c.shopify_id.is_(None))
            )
        lines = [{"order_id": known[o.number], **dataclasses.asdict(i)} for o, _ in orders for i in o.items]
        if lines:
            self.db.execute(_ADD_ORDER_LINES, lines)
        self._save_refunds([(known[o.number], r) for o, _ in orders for r in o.refunds])

    def policy_versions(self) -> list[tuple[datetime, str]]:
        rows = self.db.execute(
            select(t.policy_versions.c.effective_at, t.policy_versions.c.version).order_by(
                t.policy_versions.c.effective_at, t.policy_versions.c.version
            )
        )
        return [(row.effective_at, policy_version_label(row.version)) for row in rows]

    def save_order(self, order: OrderFacts, customer_id: int | None, at: datetime) -> None:
        # statements built once, parameters passed apart: their compiled forms stay cached
        # an order saved without its buyer (a fulfilment webhook) keeps the buyer it has
        buyer = {"customer_id": customer_id} if customer_id is not None else {}
        values = _order_values(order) | buyer | {"updated_at": at}
        existing = self.db.execute(_ORDER_ID, {"number": order.number}).scalar()
        if existing is None:
            made = self.db.execute(_ADD_ORDER[self.db.dialect.name], values).scalar()
            if made is None:  # made meanwhile by another transaction, or its id taken
                raise OrderWriteConflict(f"order {order.number} was written by another delivery meanwhile")
            order_id = made
        else:
            order_id = existing
            self.db.execute(_UPDATE_ORDER, values | {"order_id_": order_id})
            self.db.execute(_DROP_ORDER_LINES, {"order_id_": order_id})
            self.db.execute(_DROP_REFUNDS, {"order_id_": order_id})
        if order.items:
            lines = [{"order_id": order_id, **dataclasses.asdict(item)} for item in order.items]
            self.db.execute(_ADD_ORDER_LINES, lines)
        self._save_refunds([(order_id, r) for r in order.refunds])

    def _save_refunds(self, refunds: Sequence[tuple[int, Refund]]) -> None:
        """Refunds with a Shopify id stored once (a repeat updates it), others added."""
        rows = [
            {"order_id": order_id, **dataclasses.asdict(r) | {"shopify_id": r.shopify_id or None}}
            for order_id, r in refunds
        ]
        by_id = [row for row in rows if row["shopify_id"]]
        if by_id:
            self.db.execute(_PUT_REFUNDS[self.db.dialect.name], by_id)
        if len(by_id) < len(rows):
            self.db.execute(_ADD_REFUNDS, [row for row in rows if not row["shopify_id"]])

    # ---------------------------------------------------------------- cases
    def record_delivery(self, webhook_id: str, topic: str, shop: str, at: datetime) -> bool:
        values = {"webhook_id": webhook_id, "topic": topic, "shop_domain": shop, "received_at": at}
        statement = _ADD_DELIVERY[self.db.dialect.name].values(values)
        return self.db.execute(statement).scalar() is not None

    def set_delivery_outcome(self, webhook_id: str, outcome: str) -> None:
        self.db.execute(
            update(t.webhook_deliveries)
            .where(t.webhook_deliveries.c.webhook_id == webhook_id)
            .values(outcome=outcome[:500])
        )

    def order_number_for(self, shopify_id: str) -> str | None:
        found = self.db.execute(select(t.orders.c.number).where(t.orders.c.shopify_id == shopify_id)).scalar()
        return str(found) if found is not None else None

    def order_numbers_by_shopify_id(self, shopify_ids: Collection[str]) -> dict[str, str]:
        if not shopify_ids:
            return {}
        rows = self.db.execute(
            select(t.orders.c.shopify_id, t.orders.c.number).where(t.orders.c.shopify_id.in_(shopify_ids))
        )
        return {str(shopify_id): str(number) for shopify_id, number in rows}

    def lock_order(self, number: str) -> None:
        self.db.execute(_LOCK_ORDER, {"number": number})

    def update_order_row(self, order: OrderFacts, at: datetime) -> None:
        self.db.execute(_UPDATE_ORDER_ROW, _order_values(order) | {"updated_at": at, "number_": order.number})

    def order_customer(self, number: str) -> tuple[str, str] | None:
        row = self.db.execute(
            select(t.customers.c.email, t.customers.c.name)
            .join(t.orders, t.orders.c.customer_id == t.customers.c.id)
            .where(t.orders.c.number == number)
        ).first()
        return (row.email, row.name) if row is not None else None

    def add_tracking_event(self, order_number: str, event: TrackingEvent) -> bool:
        order_id = self.db.execute(_ORDER_ID, {"number": order_number}).scalar()
        if order_id is None:
            return False
        values = {
            "order_id": order_id,
            "shopify_id": event.event_id[:64],
            "status": event.status.value,
            "happened_at": event.happened_at,
            "message": event.message[:1000],
            "location": event.location[:300],
            "carrier": event.carrier[:100],
            "tracking_number": event.tracking_number[:100],
        }
        return self.db.execute(_ADD_TRACKING_EVENT[self.db.dialect.name].values(values)).scalar() is not None

    def tracking_events(self, order_number: str) -> list[TrackingEvent]:
        rows = self.db.execute(
            select(t.fulfillment_events)
            .join(t.orders, t.orders.c.id == t.fulfillment_events.c.order_id)
            .where(t.orders.c.number == order_number)
            .order_by(t.fulfillment_events.c.happened_at, t.fulfillment_events.c.id)
        ).mappings()
        return [
            TrackingEvent(
                event_id=r["shopify_id"],
                status=ScanStatus(r["status"]),
                happened_at=r["happened_at"],
                message=r["message"],
                location=r["location"],
                carrier=r["carrier"],
                tracking_number=r["tracking_number"],
            )
            for r in rows
        ]

    def dispute(self, dispute_id: str) -> tuple[Dispute, int | None] | None:
        row = (
            self.db.execute(select(t.disputes).where(t.disputes.c.shopify_id == dispute_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        fields = {f.name for f in dataclasses.fields(Dispute)} - {"dispute_id", "order_shopify_id"}
        values = {name: row[name] for name in fields if name != "kind"}
        return Dispute(dispute_id=dispute_id, kind=row["kind"], **values), row["case_id"]

    def save_dispute(self, dispute: Dispute, case_id: int | None, at: datetime) -> None:
        values = {
            name: getattr(dispute, name)
            for name in (
                "order_number",
                "kind",
                "reason",
                "network_reason_code",
                "status",
                "amount",
                "currency",
                "evidence_due_by",
                "evidence_sent_on",
                "initiated_at",
                "finalized_on",
                "shopify_updated_at",
            )
        } | {"case_id": case_id, "updated_at": at}
        changed = self.db.execute(
            update(t.disputes).where(t.disputes.c.shopify_id == dispute.dispute_id).values(values)
        ).rowcount
        if not changed:
            self.db.execute(insert(t.disputes).values(values | {"shopify_id": dispute.dispute_id}))

    def open_case(self, fields: Mapping[str, Any]) -> int:
        fields = fitted(fields)
        fields |= queue_fields(fields, fields)
        # parameters passed apart from the statement keep its compiled form cached
        return int(self.db.execute(_OPEN_CASE, dict(fields)).scalar_one())

    def update_case(
        self, case_id: int, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> None:
        """Store ``fields``; ``current`` (the case's status, risk and due time before the
        change, when the caller has them) saves reading them back for the queue's sort keys."""
        fields = fitted(fields)
        if QUEUE_KEYS & fields.keys():
            if current is None or not current.keys() | fields.keys() >= QUEUE_KEYS:
                found = self.db.execute(_QUEUE_STATE, {"case_id_": case_id}).mappings().first()
                current = dict(found) if found is not None else {}
            fields = {**fields, **queue_fields(fields, current)}
        self.db.execute(_UPDATE_CASE, {**fields, "case_id_": case_id})

    def case_row(self, case_id: int) -> CaseRecord:
        row = self.db.execute(_CASE_ROW, {"case_id_": case_id}).mappings().first()
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        return case_record(row)

    def locked_case_row(self, case_id: int) -> CaseRecord:
        row = self.db.execute(_LOCKED_CASE_ROW, {"case_id_": case_id}).mappings().first()
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        return case_record(row)

    def events_after(self, case_id: int, event_id: int) -> list[Mapping[str, Any]]:
        found = self.db.execute(_EVENTS_AFTER, {"case_id_": case_id, "after": event_id}).mappings()
        return [dict(r) for r in found]

    def add_message(
        self,
        case_id: int,
        message: InboundMessage,
        direction: Direction,
        promised_update_at: datetime | None = None,
    ) -> int:
        values = message_row(case_id, message, direction, promised_update_at)
        message_id = int(self.db.execute(_ADD_MESSAGE, values).scalar_one())
        by = message.from_name or message.from_address
        case_side.add_message_files(self.db, case_id, message_id, message.attachments, by, message.sent_at)
        last = {
            "case_id_": case_id,
            "preview_": message_preview(message.body)[:200],
            "direction_": direction.value,
            "sent_at_": message.sent_at,
        }
        self.db.execute(_LAST_MESSAGE, last)
        return message_id

    def add_event(self, case_id: int, event: Event) -> None:
        self.add_events(case_id, [event])

    def add_events(self, case_id: int, events: Sequence[Event]) -> None:
        rows = [
            {"case_id": case_id, "kind": e.kind, "at": e.at, "actor": e.actor, "data": dict(e.data)}
            for e in events
        ]
        if rows:
            self.db.execute(_ADD_EVENTS, rows)

    def add_evidence(self, case_id: int, items: Sequence[EvidenceItem], by: str, at: datetime) -> None:
        """The first checklist of a new case, in one statement."""
        rows = [evidence_row(case_id, item, by, at) | {"key": item.key} for item in items]
        if rows:
            self.db.execute(_ADD_EVIDENCE, rows)

    def set_evidence(
        self,
        case_id: int,
        items: Sequence[EvidenceItem],
        by: str,
        at: datetime,
        *,
        keep_present: bool = False,
    ) -> None:
        """Insert or update checklist items; with ``keep_present`` an item already in hand
        is never marked missing again (a later message that omits it proves nothing)."""
        stored = {e["key"]: bool(e["present"]) for e in self.evidence_of(case_id)}
        changed, added = [], []
        for item in items:
            if keep_present and stored.get(item.key):
                continue
            values = evidence_row(case_id, item, by, at)
            if item.key in stored:
                del values["case_id"]  # the row to update is named by case_id_ and key_
                changed.append(values | {"case_id_": case_id, "key_": item.key})
            else:
                added.append(values | {"key": item.key})
        if changed:
            self.db.execute(_UPDATE_EVIDENCE, changed)
        if added:
            self.db.execute(_ADD_EVIDENCE, added)

    def hold_automation(self, customer_id: int, case_id: int, reason: str, since: datetime) -> None:
        if not self.db.execute(_HELD, {"case_id_": case_id}).scalar():
            values = {"customer_id": customer_id, "case_id": case_id, "reason": reason, "since": since}
            self.db.execute(_HOLD, values)

    def release_automation(self, case_id: int, until: datetime) -> None:
        where = and_(t.automation_holds.c.case_id == case_id, t.automation_holds.c.until.is_(None))
        self.db.execute(update(t.automation_holds).where(where).values(until=until))

    # ---------------------------------------------------------------- intake side tables
    def screen(self, message: InboundMessage, source: str, at: datetime) -> bool:
        """Record a screened mail; False when it was recorded before."""
        values = {
            "dedupe_key": message.dedupe_key,
            "kind": message.auto_kind.value if message.auto_kind else "",
            "source": source[:500],
            "from_address": message.from_address,
            "subject": message.subject[:998],
            "received_at": at,
        }
        return self._insert_once(t.screened, values, "dedupe_key")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.db.begin_nested():
            yield

    def quarantine(self, source: str, reason: str, at: datetime) -> None:
        self._insert_once(t.quarantine, {"source": source[:500], "reason": reason, "at": at}, "source")

    def _insert_once(self, table: Any, values: Mapping[str, Any], key: str) -> bool:
        dialect_insert = pg_insert if self.db.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(table).values(dict(values)).on_conflict_do_nothing(index_elements=[key])
        # rowcount is not reliable for ON CONFLICT across drivers; a returned id is
        return self.db.execute(statement.returning(table.c.id)).first() is not None

    def save_attachment(self, meta: AttachmentMeta, content: bytes) -> str:
        """Content addressed by hash under the data folder, written whole (atomically, 0600);
        a copy that does not match its hash (torn by a crash) is written again. Too large:
        metadata only."""
        if len(content) > MAX_ATTACHMENT_BYTES:
            return ""
        path = self.attachments_dir / meta.sha256[:2] / meta.sha256
        if not holds(path, meta.sha256, len(content)):
            private_folder(path.parent)
            write_atomically(path, content, private=True)
        return str(path)

    # ---------------------------------------------------------------- a case's files (case_side.py)
    def add_upload(self, case_id: int, evidence_key: str, meta: AttachmentMeta, by: str, at: datetime) -> int:
        return case_side.add_upload(self.db, case_id, evidence_key, meta, by, at)

    def files_of(self, case_id: int) -> list[CaseFile]:
        return case_side.files_of(self.db, case_id)

    def case_file(self, file_id: int) -> CaseFile | None:
        return case_side.case_file(self.db, file_id)

    def file_content(self, file: CaseFile) -> bytes | None:
        return case_side.file_content(self.attachments_dir, file)

    def customer_cases(self, customer_id: int, *, except_case: int, limit: int) -> list[OtherCase]:
        return case_side.customer_cases(self.db, customer_id, except_case, limit)

    # ---------------------------------------------------------------- reading a case
    def remove_evidence(self, case_id: int, keys: Sequence[str]) -> None:
        """Drop checklist items (a re-route drops the old route's items not yet in hand)."""
        if keys:
            self.db.execute(
                delete(t.evidence_items).where(
                    t.evidence_items.c.case_id == case_id, t.evidence_items.c.key.in_(list(keys))
                )
            )

    # ---------------------------------------------------------------- route labels (route_labels.py)
    def add_route_label(self, label: RouteLabel) -> int:
        return labels_table.add_label(self.db, label)

    def route_labels(self) -> list[RouteLabel]:
        return labels_table.labels(self.db)

    def route_label_count(self, after_id: int = 0) -> int:
        return labels_table.label_count(self.db, after_id)

    def feed_events(self, consumer: FeedConsumer, *, limit: int = 500) -> list[FeedEvent]:
        return feed.events_after_cursor(self.db, consumer, limit=limit)

    def advance_feed(self, consumer: FeedConsumer, last_event_id: int) -> None:
        feed.advance(self.db, consumer, last_event_id)

    def skip_feed(self, consumer: FeedConsumer) -> None:
        feed.skip_to_newest(self.db, consumer)

    def timeline(self, case_id: int) -> list[Mapping[str, Any]]:
        return [dict(r) for r in self.db.execute(_TIMELINE, {"case_id_": case_id}).mappings()]

    def messages_of(self, case_id: int) -> list[Mapping[str, Any]]:
        return [dict(r) for r in self.db.execute(_MESSAGES_OF, {"case_id_": case_id}).mappings()]

    def message_times(self, case_id: int) -> list[Mapping[str, Any]]:
        """Each message's ``sent_at``, ``direction`` and ``promised_update_at``, in order."""
        return [dict(r) for r in self.db.execute(_MESSAGE_TIMES, {"case_id_": case_id}).mappings()]

    def open_case_ids(self) -> list[int]:
        return list(self.db.execute(_OPEN_CASE_IDS).scalars())

    def case_ids_to_check(self, now: datetime) -> list[int]:
        return list(self.db.execute(_CASE_IDS_TO_CHECK, {"now": now}).scalars())

    def case_ids_due_meaning(self, limit: int) -> list[int]:
        return list(self.db.execute(_DUE_MEANING, {"limit": limit}).scalars())

    def meaning_due_count(self) -> int:
        return int(self.db.execute(_MEANING_DUE_COUNT).scalar_one())

    def clock_inputs(self, case_ids: Sequence[int]) -> dict[int, ClockInputs]:
        ids = {"ids": list(case_ids)}
        # Row._asdict(): a mapping row's dict() asks for its keys anew each time, a third of the cost
        found = {row.id: ClockInputs(row._asdict(), [], []) for row in self.db.execute(_CLOCK_ROWS, ids)}
        for message in self.db.execute(_CLOCK_MESSAGE_TIMES, ids):
            times = message._asdict()
            found[times.pop("case_id")].messages.append(times)
        for event in self.db.execute(_CLOCK_TIMELINES, ids):
            found[event.case_id].events.append(event._asdict())
        return found

    def evidence_of(self, case_id: int) -> list[Mapping[str, Any]]:
        return [dict(r) for r in self.db.execute(_EVIDENCE_OF, {"case_id_": case_id}).mappings()]

    def list_cases(
        self,
        statuses: Sequence[CaseStatus],
        *,
        route: Route | None = None,
        lead: str | None = None,
        breaching: bool = False,
        limit: int = 200,
    ) -> list[CaseSummary]:
        """The queue in its default order (see ``queue``), by status, route, lead and risk."""
        query = QueueQuery(
            statuses=frozenset(statuses), route=route, lead=lead or "", breaching=breaching, limit=limit
        )
        return list_queue(self.db, query)

    def queue(self, query: QueueQuery) -> list[CaseSummary]:
        """The queue as ``query`` asks for it (adapters/db/queue.py)."""
        return list_queue(self.db, query)

    def search_is_capped(self, term: str) -> bool:
        return reaches_message_cap(self.db, term)

    def find_cases(self, term: str, limit: int = 200) -> list[CaseSummary]:
        """Cases of a customer (an e-mail address) or of an order number ("1043" or "#1043"),
        newest first, open or not."""
        term = term.strip()
        query = (
            select(*SUMMARY_COLUMNS, t.customers.c.email.label("customer"))
            .outerjoin(t.customers, t.customers.c.id == t.cases.c.customer_id)
            .order_by(t.cases.c.id.desc())
            .limit(limit)
        )
        if "@" in term:
            query = query.where(t.customers.c.email == term.lower())
        else:
            query = query.where(t.cases.c.order_number == term.lstrip("#"))
        return [summary(dict(row)) for row in self.db.execute(query).mappings()]

    # ---------------------------------------------------------------- outbox (adapters/db/outbox.py)
    def queue_mail(self, mail: OutgoingMail, at: datetime) -> bool:
        return mail_queue.queue_mail(self.db, mail, at)

    def pending_mails(self, limit: int = 100) -> list[QueuedMail]:
        return mail_queue.pending_mails(self.db, limit)

    def claim_mail(self, mail_id: int, at: datetime, by: str = "") -> QueuedMail | None:
        return mail_queue.claim_mail(self.db, mail_id, at, by)

    def mark_mail_sent(self, mail_id: int, at: datetime) -> None:
        mail_queue.mark_sent(self.db, mail_id, at)

    def mark_mail_failed(self, mail_id: int, error: str, *, final: bool) -> None:
        mail_queue.mark_failed(self.db, mail_id, error, final=final)

    def release_stale_mails(self, before: datetime, error: str) -> int:
        return mail_queue.release_stale(self.db, before, error)

    def acknowledgements_since(self, address: str, since: datetime) -> list[str]:
        return mail_queue.acknowledgements_since(self.db, address, since)

    def mail_deliveries(self, case_id: int) -> dict[str, Delivery]:
        return mail_queue.deliveries(self.db, case_id)

    # ---------------------------------------------------------------- ratings (adapters/db/ratings.py)
    def add_rating_link(self, link: RatingLink) -> None:
        ratings.add_link(self.db, link)

    def rating_link(self, token: str, *, lock: bool = False) -> RatingLink | None:
        return ratings.link_for_update(self.db, token) if lock else ratings.link(self.db, token)

    def record_rating(self, token: str, rating: Rating, comment: str, at: datetime) -> bool:
        return ratings.record(self.db, token, rating, comment, at)

    def flagged_cases(self, case_ids: Collection[int]) -> dict[int, str]:
        return ratings.flagged(self.db, case_ids)

    def clear_rating_flag(self, case_id: int, by: str, at: datetime) -> int:
        return ratings.clear_flag(self.db, case_id, by, at)

    def ratings_of(self, case_id: int) -> list[RatingLink]:
        return ratings.ratings_of(self.db, case_id)

    # ---------------------------------------------------------------- notifications (adapters/db/notifications.py)
    def notification_choices(self, user_id: int) -> dict[Topic, Timing]:
        return notices.choices(self.db, user_id)

    def set_notification_choices(self, user_id: int, chosen: dict[Topic, Timing]) -> None:
        notices.set_choices(self.db, user_id, chosen)

    def subscribers(self) -> list[Subscriber]:
        return notices.subscribers(self.db)

    def notice_cases(self, case_ids: Collection[int]) -> dict[int, NoticeCase]:
        return notices.notice_cases(self.db, case_ids)

    def keep_for_digest(self, items: Sequence[Notice]) -> None:
        notices.keep_for_digest(self.db, items)

    def waiting_digest_items(self, before: datetime) -> dict[int, list[tuple[int, DigestLine]]]:
        return notices.waiting_digest_items(self.db, before)

    def mark_digested(self, item_ids: Collection[int], at: datetime) -> None:
        notices.mark_digested(self.db, item_ids, at)

    def user_emails(self, user_ids: Collection[int]) -> dict[int, str]:
        return notices.user_emails(self.db, user_ids)


def policy_version_label(version: int) -> str:
    return f"v{version}"


def _order_values(order: OrderFacts) -> dict[str, Any]:
    values = {
        f.name: getattr(order, f.name)
        for f in dataclasses.fields(order)
        if f.name not in ("items", "refunds")
    }
    values["tracking_numbers"] = list(order.tracking_numbers)
    values["last_scan_status"] = order.last_scan_status.value if order.last_scan_status else None
    values["shipping_address"] = _address_json(order.shipping_address)
    values["billing_address"] = _address_json(order.billing_address)
    return values


def _address_json(address: Address | None) -> dict[str, str] | None:
    return dataclasses.asdict(address) if address is not None else None


def _address_from(stored: Mapping[str, Any] | None) -> Address | None:
    """The address a row holds; keys an older or newer desk wrote and this one does not know
    are left out, and an address with nothing left is None."""
    if not stored:
        return None
    known = {f.name for f in dataclasses.fields(Address)}
    return address_or_none(Address(**{k: str(v) for k, v in stored.items() if k in known and v is not None}))


def _order_from(row: Mapping[str, Any], lines: list[Any], refunds: list[Any]) -> OrderFacts:
    status = row["last_scan_status"]
    return OrderFacts(
        number=row["number"],
        placed_at=row["placed_at"],
        fulfilled_at=row["fulfilled_at"],
        delivered_at=row["delivered_at"],
        cancelled_at=row["cancelled_at"],
        last_scan_at=row["last_scan_at"],
        last_scan_status=ScanStatus(status) if status else None,
        last_scan_location=row["last_scan_location"],
        carrier=row["carrier"],
        tracking_numbers=tuple(row["tracking_numbers"] or ()),
        promise_window_end=row["promise_window_end"],
        destination=row["destination"],
        items=tuple(
            LineItem(i["sku"], i["title"], i["variant"], i["quantity"], i["price"], i["gtin"]) for i in lines
        ),
        refunds=tuple(Refund(r["amount"], r["at"], r["reason"], r["shopify_id"] or "") for r in refunds),
        currency=row["currency"],
        total=row["total"],
        policy_version=row["policy_version"],
        shopify_id=row["shopify_id"],
        financial_status=row["financial_status"],
        shipping_address=_address_from(row["shipping_address"]),
        billing_address=_address_from(row["billing_address"]),
        shopify_updated_at=row["shopify_updated_at"],
    )


SqlUnitOfWork: TypeAlias = Callable[[], AbstractContextManager[SqlCaseRepository]]
"""What ``unit_of_work`` returns: ``with uow() as cases:`` is one transaction."""


def unit_of_work(engine: Engine, attachments_dir: Path, *, writes: bool = True) -> SqlUnitOfWork:
    """A factory: ``with uow() as cases:`` is one transaction, committed when the block ends.

    ``writes=False`` is for reading only: on SQLite it does not queue for the write lock."""

    return transactions(
        engine, lambda connection: SqlCaseRepository(connection, attachments_dir), writes=writes
    )


class BatchedUnitOfWork:
    """A unit of work that keeps one transaction open for up to ``size`` blocks.

    Bulk intake commits every ``size`` messages instead of after each one. A run killed in
    the middle loses only the open batch, and running it again takes that batch in again:
    deduplication is keyed in the database, so nothing is lost or doubled either way.
    """

    def __init__(self, engine: Engine, attachments_dir: Path, size: int = 100) -> None:
        self.engine = engine
        self.attachments_dir = attachments_dir
        self.size = size
        self._connection: Connection | None = None
        self._blocks = 0

    @contextmanager
    def __call__(self) -> Iterator[SqlCaseRepository]:
        if self._connection is None:
            self._connection = self.engine.connect().execution_options(**{WRITE_OPTION: True})
            self._connection.begin()
        try:
            yield SqlCaseRepository(self._connection, self.attachments_dir)
        except BaseException:
            self._end(commit=False)
            raise
        self._blocks += 1
        if self._blocks >= self.size:
            self.flush()

    def flush(self) -> None:
        """Commit what the open batch holds."""
        self._end(commit=True)

    def _end(self, *, commit: bool) -> None:
        if self._connection is None:
            return
        if commit:
            self._connection.commit()
        else:
            self._connection.rollback()
        self._connection.close()
        self._connection = None
        self._blocks = 0
