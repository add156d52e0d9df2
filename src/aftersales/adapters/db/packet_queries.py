"""Everything a dispute evidence packet holds, read in one read-only transaction: the order,
its buyer, every carrier scan, its disputes, every case on it with their messages, evidence
and events, and the policy texts in force when it was placed (see ``packet_unit_of_work``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, bindparam, or_, select

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.adapters.db.policy_texts import SqlPolicyTextRepository
from aftersales.adapters.db.repository import SqlCaseRepository
from aftersales.domain.orders import Dispute, OrderFacts
from aftersales.domain.packet import (
    CaseEvent,
    EvidenceRecord,
    FileRef,
    PacketCase,
    PacketData,
    PacketMessage,
    PolicyInForce,
    is_dispute_notice,
)

_LABEL = re.compile(r"v(\d+)")
_CASE = select(t.cases.c.id, t.cases.c.order_number).where(t.cases.c.id == bindparam("case_id_"))
_ORDER_KNOWN = (
    select(t.orders.c.id).where(t.orders.c.number == bindparam("number")),
    select(t.cases.c.id).where(t.cases.c.order_number == bindparam("number")).limit(1),
    select(t.disputes.c.id).where(t.disputes.c.order_number == bindparam("number")).limit(1),
)
_BUYER = (
    select(t.customers.c.id, t.customers.c.email, t.customers.c.name)
    .join(t.orders, t.orders.c.customer_id == t.customers.c.id)
    .where(t.orders.c.number == bindparam("number"))
)
_CASE_BUYER = (
    select(t.customers.c.id, t.customers.c.email, t.customers.c.name)
    .join(t.cases, t.cases.c.customer_id == t.customers.c.id)
    .where(t.cases.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(t.cases.c.id)
)


class SqlPacketQueries:
    def __init__(self, connection: Connection) -> None:
        self.db = connection
        # the case repository's readers, on the same connection (nothing is written)
        self.cases = SqlCaseRepository(connection, Path())

    def case_order_number(self, case_id: int) -> str | None:
        """The case's order number ("" when it has none); None when there is no such case."""
        row = self.db.execute(_CASE, {"case_id_": case_id}).first()
        return None if row is None else str(row.order_number)

    def order_known(self, number: str) -> bool:
        """True when the order is stored, or a case or dispute names it."""
        return any(self.db.execute(query, {"number": number}).first() for query in _ORDER_KNOWN)

    def packet_data(self, subject: str, order_number: str, case_id: int | None) -> PacketData:
        """What the desk holds about the order (every case on it) and the case, if given."""
        order = self.cases.order(order_number) if order_number else None
        case_ids = self._case_ids(order_number, case_id)
        buyer = self._buyer(order_number, case_ids)
        return PacketData(
            subject=subject,
            order=order,
            customer_email=buyer[1] if buyer else "",
            customer_name=buyer[2] if buyer else "",
            prior_orders=self._prior_orders(order, buyer[0] if buyer else None),
            tracking=tuple(self.cases.tracking_events(order_number)) if order_number else (),
            disputes=self._disputes(order_number, case_ids),
            cases=self._cases(case_ids),
            messages=self._messages(case_ids),
            evidence=self._evidence(case_ids),
            events=self._events(case_ids),
            policy=self._policy(order),
        )

    def _case_ids(self, order_number: str, case_id: int | None) -> list[int]:
        ids = set() if case_id is None else {case_id}
        if order_number:
            query = select(t.cases.c.id).where(t.cases.c.order_number == order_number)
            ids |= set(self.db.execute(query).scalars())
        return sorted(ids)

    def _buyer(self, order_number: str, case_ids: Sequence[int]) -> tuple[int, str, str] | None:
        row = self.db.execute(_BUYER, {"number": order_number}).first() if order_number else None
        if row is None and case_ids:
            row = self.db.execute(_CASE_BUYER, {"ids": list(case_ids)}).first()
        return None if row is None else (int(row.id), str(row.email), str(row.name))

    def _prior_orders(self, order: OrderFacts | None, customer_id: int | None) -> tuple[str, ...]:
        """The buyer's other orders placed before this one that no dispute names."""
        if order is None or customer_id is None:
            return ()
        query = (
            select(t.orders.c.number)
            .where(t.orders.c.customer_id == customer_id, t.orders.c.number != order.number)
            .where(t.orders.c.number.not_in(select(t.disputes.c.order_number)))
            .order_by(t.orders.c.placed_at, t.orders.c.number)
        )
        if order.placed_at is not None:
            query = query.where(t.orders.c.placed_at < order.placed_at)
        return tuple(str(n) for n in self.db.execute(query).scalars())

    def _disputes(self, order_number: str, case_ids: Sequence[int]) -> tuple[Dispute, ...]:
        conditions: list[ColumnElement[bool]] = [t.disputes.c.case_id.in_(case_ids)]
        if order_number:
            conditions.append(t.disputes.c.order_number == order_number)
        query = (
            select(t.disputes).where(or_(*conditions)).order_by(t.disputes.c.initiated_at, t.disputes.c.id)
        )
        return tuple(_dispute(row) for row in self.db.execute(query).mappings())

    def _cases(self, case_ids: Sequence[int]) -> tuple[PacketCase, ...]:
        query = select(t.cases).where(t.cases.c.id.in_(case_ids)).order_by(t.cases.c.id)
        return tuple(
            PacketCase(
                id=r["id"],
                route=r["route"],
                status=r["status"],
                subject=r["subject"],
                opened_at=r["opened_at"],
                lead=r["lead_name"] or r["lead_role"],
                sender_mark=r["sender_mark"] or "",
            )
            for r in self.db.execute(query).mappings()
        )

    def _messages(self, case_ids: Sequence[int]) -> tuple[PacketMessage, ...]:
        m = t.messages
        query = select(m).where(m.c.case_id.in_(case_ids)).order_by(m.c.sent_at, m.c.id)
        return tuple(_message(row) for row in self.db.execute(query).mappings())

    def _evidence(self, case_ids: Sequence[int]) -> tuple[EvidenceRecord, ...]:
        e = t.evidence_items
        query = select(e).where(e.c.case_id.in_(case_ids)).order_by(e.c.case_id, e.c.id)
        return tuple(
            EvidenceRecord(
                case_id=r["case_id"],
                key=r["key"],
                label=r["label"],
                present=r["present"],
                source=r["source"],
                marked_by=r["marked_by"],
                marked_at=r["marked_at"],
            )
            for r in self.db.execute(query).mappings()
        )

    def _events(self, case_ids: Sequence[int]) -> tuple[CaseEvent, ...]:
        e = t.events
        query = select(e).where(e.c.case_id.in_(case_ids)).order_by(e.c.at, e.c.id)
        return tuple(
            CaseEvent(
                case_id=r["case_id"], kind=r["kind"], at=r["at"], actor=r["actor"], data=r["data"] or {}
            )
            for r in self.db.execute(query).mappings()
        )

    def _policy(self, order: OrderFacts | None) -> PolicyInForce | None:
        """The version the order names, else the one in force when it was placed."""
        if order is None:
            return None
        texts = SqlPolicyTextRepository(self.db)
        named = _LABEL.fullmatch(order.policy_version)
        if named:
            version = texts.version(int(named.group(1)))
        elif order.policy_version:  # an order file's own name for it: kept, texts unknown
            return PolicyInForce(label=order.policy_version)
        else:
            version = texts.version_in_force(order.placed_at) if order.placed_at else None
        if version is None:
            return PolicyInForce(label=order.policy_version) if order.policy_version else None
        return PolicyInForce(
            label=version.label,
            effective_at=version.effective_at,
            sha256=version.sha256,
            texts={kind.value: text for kind, text in version.texts.texts.items()},
        )


def _dispute(row: RowMapping) -> Dispute:
    return Dispute(
        dispute_id=row["shopify_id"],
        order_number=row["order_number"],
        kind=row["kind"],
        reason=row["reason"],
        network_reason_code=row["network_reason_code"],
        status=row["status"],
        amount=row["amount"],
        currency=row["currency"],
        evidence_due_by=row["evidence_due_by"],
        evidence_sent_on=row["evidence_sent_on"],
        initiated_at=row["initiated_at"],
        finalized_on=row["finalized_on"],
    )


def _message(row: RowMapping) -> PacketMessage:
    sent: datetime = row["sent_at"]
    files = tuple(
        FileRef(
            filename=str(a.get("filename", "")),
            content_type=str(a.get("content_type", "")),
            size=int(a.get("size", 0)),
            sha256=str(a.get("sha256", "")),
            case_id=row["case_id"],
            sent_at=sent,
        )
        for a in row["attachments"] or ()
    )
    return PacketMessage(
        case_id=row["case_id"],
        direction=row["direction"],
        channel=row["channel"],
        author=row["author"],
        from_address=row["from_address"],
        subject=row["subject"],
        sent_at=sent,
        body=row["body"],
        attachments=files,
        is_notice=is_dispute_notice(row["dedupe_key"]),
    )


def packet_unit_of_work(engine: Engine) -> Callable[[], AbstractContextManager[SqlPacketQueries]]:
    """A factory: ``with packets() as queries:`` reads in one transaction that writes nothing
    (PostgreSQL: REPEATABLE READ, so every query sees the same moment; SQLite's deferred
    read transaction already does)."""

    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return transactions(
        engine,
        SqlPacketQueries,
        writes=False,
        options=options if engine.dialect.name == "postgresql" else None,
    )
