"""Notifications on SQLAlchemy Core: what each desk user chose (``notification_choices``),
the facts about a case that decide who is told, and the items waiting for a digest
(``notification_digest_items``). Functions over one connection; ``SqlCaseRepository`` exposes
them so the feed, the outbox and these share one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.domain.accounts import Role
from aftersales.domain.notifications import DigestLine, Notice, NoticeCase, Subscriber, Timing, Topic

_DIGEST_BATCH = 5000  # items read per digest run; more wait for the next run


def choices(db: Connection, user_id: int) -> dict[Topic, Timing]:
    query = select(t.notification_choices).where(t.notification_choices.c.user_id == user_id)
    return {Topic(r.topic): Timing(r.delivery) for r in db.execute(query)}


def set_choices(db: Connection, user_id: int, chosen: dict[Topic, Timing]) -> None:
    """Replace the user's choices with ``chosen`` (a topic left out: not told)."""
    db.execute(delete(t.notification_choices).where(t.notification_choices.c.user_id == user_id))
    if chosen:
        rows = [{"user_id": user_id, "topic": k.value, "delivery": v.value} for k, v in chosen.items()]
        db.execute(t.notification_choices.insert(), rows)


def subscribers(db: Connection) -> list[Subscriber]:
    """Active users who chose at least one topic, with their choices."""
    query = (
        select(
            t.users.c.id,
            t.users.c.email,
            t.users.c.name,
            t.users.c.role,
            t.notification_choices.c.topic,
            t.notification_choices.c.delivery,
        )
        .join(t.notification_choices, t.notification_choices.c.user_id == t.users.c.id)
        .where(t.users.c.active.is_(True))
        .order_by(t.users.c.id)
    )
    chosen: dict[int, dict[Topic, Timing]] = defaultdict(dict)
    people: dict[int, tuple[str, str, str]] = {}
    for row in db.execute(query):
        people[row.id] = (row.email, row.name, row.role)
        chosen[row.id][Topic(row.topic)] = Timing(row.delivery)
    return [
        Subscriber(user_id=uid, email=email, name=name, role=Role(role), choices=chosen[uid])
        for uid, (email, name, role) in people.items()
    ]


def notice_cases(db: Connection, case_ids: Collection[int]) -> dict[int, NoticeCase]:
    if not case_ids:
        return {}
    c = t.cases.c
    query = select(c.id, c.subject, c.route, c.lead_role, c.lead_name, c.assignee_user_id).where(
        c.id.in_(list(case_ids))
    )
    return {
        r.id: NoticeCase(
            case_id=r.id,
            subject=r.subject,
            route=r.route,
            lead_role=r.lead_role,
            lead_name=r.lead_name,
            assignee_user_id=r.assignee_user_id,
        )
        for r in db.execute(query)
    }


def keep_for_digest(db: Connection, items: Sequence[Notice]) -> None:
    """Keep each item for its user's digest, once per user, event and topic."""
    if not items:
        return
    rows = [
        {
            "user_id": i.user_id,
            "case_id": i.case_id,
            "event_id": i.event_id,
            "topic": i.topic.value,
            "at": i.at,
            "summary": i.summary[:500],
        }
        for i in items
    ]
    table = t.notification_digest_items
    dialect_insert = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(table).on_conflict_do_nothing(
        index_elements=[table.c.user_id, table.c.event_id, table.c.topic]
    )
    db.execute(statement, rows)


def waiting_digest_items(db: Connection, before: datetime) -> dict[int, list[tuple[int, DigestLine]]]:
    """Items not sent yet that happened before ``before``, by user: (item id, line). The rows
    are locked until the transaction ends on PostgreSQL (SQLite's writers queue already)."""
    table = t.notification_digest_items
    query = (
        select(table)
        .where(table.c.sent_at.is_(None), table.c.at < before)
        .order_by(table.c.user_id, table.c.at)
        .limit(_DIGEST_BATCH)
    )
    if db.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    found: dict[int, list[tuple[int, DigestLine]]] = defaultdict(list)
    for r in db.execute(query):
        line = DigestLine(case_id=r.case_id, topic=Topic(r.topic), at=r.at, summary=r.summary)
        found[r.user_id].append((r.id, line))
    return dict(found)


def mark_digested(db: Connection, item_ids: Collection[int], at: datetime) -> None:
    if item_ids:
        table = t.notification_digest_items
        db.execute(update(table).where(table.c.id.in_(list(item_ids))).values(sent_at=at))


def user_emails(db: Connection, user_ids: Collection[int]) -> dict[int, str]:
    """Active users' addresses (a user disabled since an item was kept gets no digest)."""
    if not user_ids:
        return {}
    query = select(t.users.c.id, t.users.c.email).where(
        t.users.c.id.in_(list(user_ids)), t.users.c.active.is_(True)
    )
    return {r.id: r.email for r in db.execute(query)}
