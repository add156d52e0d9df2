"""The outbox table: mail queued in the unit of work that decided to send it, sent later.

``SqlCaseRepository`` exposes these as methods; they live here to keep that module's size in
check. A mail is queued once per Message-ID, so a use case run twice queues it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.domain.outgoing import (
    Delivery,
    MailKind,
    MailStatus,
    OutgoingMail,
    QueuedMail,
    delivery_of,
)

_ERROR_LENGTH = 1000  # the column's size
_PENDING = (
    select(t.outbox)
    .where(t.outbox.c.status == MailStatus.PENDING.value)
    .order_by(t.outbox.c.id)
    .limit(bindparam("limit_"))
)
_ACKNOWLEDGED = (
    select(t.outbox.c.message_id)
    .where(
        t.outbox.c.kind == MailKind.ACKNOWLEDGEMENT.value,
        t.outbox.c.to_address == bindparam("address"),
        t.outbox.c.queued_at >= bindparam("since"),
    )
    .order_by(t.outbox.c.id)
)
_DELIVERIES = select(
    t.outbox.c.message_id,
    t.outbox.c.status,
    t.outbox.c.last_error,
    t.outbox.c.queued_at,
    t.outbox.c.sent_at,
).where(t.outbox.c.case_id == bindparam("case_id_"), t.outbox.c.kind == MailKind.REPLY.value)
_MARK = update(t.outbox).where(t.outbox.c.id == bindparam("mail_id_"))


def queue_mail(db: Connection, mail: OutgoingMail, at: datetime) -> bool:
    """Queue ``mail``; False when a mail with its Message-ID was queued before."""
    values = {
        "case_id": mail.case_id,
        "kind": mail.kind.value,
        "message_id": mail.message_id,
        "to_address": mail.to_address.strip().lower(),
        "subject": mail.subject[:998],
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "body": mail.body,
        "status": MailStatus.PENDING.value,
        "attempts": 0,
        "last_error": "",
        "queued_at": at,
    }
    dialect_insert = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(t.outbox)
        .values(values)
        .on_conflict_do_nothing(index_elements=[t.outbox.c.message_id])
        .returning(t.outbox.c.id)
    )
    # rowcount is not reliable for ON CONFLICT across drivers; a returned id is
    return db.execute(statement).first() is not None


def pending_mails(db: Connection, limit: int) -> list[QueuedMail]:
    """Mail still to send, oldest first."""
    return [_queued(dict(row)) for row in db.execute(_PENDING, {"limit_": limit}).mappings()]


def claim_mail(db: Connection, mail_id: int, at: datetime, by: str = "") -> QueuedMail | None:
    """Mark a pending mail as being sent since ``at`` and return it; None when it is not
    pending (sent, failed, or taken by another sender a moment ago). One conditional update,
    so two senders never both take it, and no lock is held once the transaction ends."""
    claim = (
        update(t.outbox)
        .where(t.outbox.c.id == mail_id, t.outbox.c.status == MailStatus.PENDING.value)
        .values(status=MailStatus.SENDING.value, sent_at=at, claimed_by=by[:200])
        .returning(*t.outbox.c)
    )
    row = db.execute(claim).mappings().first()
    return _queued(dict(row)) if row is not None else None


def mark_sent(db: Connection, mail_id: int, at: datetime) -> None:
    values = {"status": MailStatus.SENT.value, "sent_at": at, "last_error": "", "mail_id_": mail_id}
    db.execute(_MARK.values(attempts=t.outbox.c.attempts + 1), values)


def mark_failed(db: Connection, mail_id: int, error: str, *, final: bool) -> None:
    status = MailStatus.FAILED if final else MailStatus.PENDING
    values = {
        "status": status.value,
        "sent_at": None,
        "last_error": error[:_ERROR_LENGTH],
        "mail_id_": mail_id,
    }
    db.execute(_MARK.values(attempts=t.outbox.c.attempts + 1), values)


def release_stale(db: Connection, before: datetime, error: str) -> int:
    """Mail a sender took before ``before`` and never finished goes back to pending, the
    attempt counted: the sender stopped (a crash, a kill) and the server may or may not have
    it. Returns how many."""
    stale = (
        update(t.outbox)
        .where(t.outbox.c.status == MailStatus.SENDING.value, t.outbox.c.sent_at < before)
        .values(
            status=MailStatus.PENDING.value,
            sent_at=None,
            claimed_by="",
            attempts=t.outbox.c.attempts + 1,
            last_error=error[:_ERROR_LENGTH],
        )
        .returning(t.outbox.c.id)
    )
    return len(db.execute(stale).all())


def acknowledgements_since(db: Connection, address: str, since: datetime) -> list[str]:
    """Message-IDs of the acknowledgements queued to ``address`` at or after ``since``."""
    found = db.execute(_ACKNOWLEDGED, {"address": address.strip().lower(), "since": since})
    return list(found.scalars())


def deliveries(db: Connection, case_id: int) -> dict[str, Delivery]:
    """The delivery state of each reply mail of a case, by Message-ID."""
    return {
        row["message_id"]: delivery_of(
            MailStatus(row["status"]),
            queued_at=row["queued_at"],
            sent_at=row["sent_at"],
            last_error=row["last_error"],
        )
        for row in db.execute(_DELIVERIES, {"case_id_": case_id}).mappings()
    }


def _queued(row: Mapping[str, Any]) -> QueuedMail:
    mail = OutgoingMail(
        case_id=row["case_id"],
        kind=MailKind(row["kind"]),
        message_id=row["message_id"],
        to_address=row["to_address"],
        subject=row["subject"],
        body=row["body"],
        in_reply_to=row["in_reply_to"],
        references=tuple(row["references"] or ()),
    )
    return QueuedMail(
        id=row["id"],
        mail=mail,
        status=MailStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        queued_at=row["queued_at"],
        sent_at=row["sent_at"],
    )
