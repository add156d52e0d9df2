"""Outbound webhooks on SQLAlchemy Core (``webhook_endpoints``, ``webhook_sends``,
``webhook_send_attempts``): one store per transaction (see ``webhooks_unit_of_work``), which
also reads the event feed (adapters/db/event_feed.py) so a relay writes its deliveries and
its new cursor together.

Two workers never send one delivery at once: a delivery is claimed (``sending``, with the
worker's host:pid and the moment) by one conditional update before it is posted. A worker that
dies holding a claim leaves it ``sending``; once the lease has run out it is pending again, the
attempt counted, and the receiver may get it twice (it dedupes on the payload's ``id``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import event_feed
from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.event_feed import FeedConsumer, FeedEvent
from aftersales.domain.outbound_webhooks import (
    CaseFacts,
    Endpoint,
    SendAttempt,
    SendStatus,
    WebhookEvent,
    WebhookSend,
)

_ERROR_LENGTH = 1000
_E = t.webhook_endpoints
_S = t.webhook_sends
_A = t.webhook_send_attempts
_SENDS = select(_S, _E.c.url).join(_E, _E.c.id == _S.c.endpoint_id)


class SqlWebhookStore:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    # --- the feed ----------------------------------------------------------------------------

    def feed_events(self, consumer: FeedConsumer, *, limit: int = 500) -> list[FeedEvent]:
        return event_feed.events_after_cursor(self.db, consumer, limit=limit)

    def advance_feed(self, consumer: FeedConsumer, last_event_id: int) -> None:
        event_feed.advance(self.db, consumer, last_event_id)

    def skip_feed(self, consumer: FeedConsumer) -> None:
        event_feed.skip_to_newest(self.db, consumer)

    # --- endpoints ---------------------------------------------------------------------------

    def add_endpoint(
        self, url: str, events: Sequence[WebhookEvent], secret: str, by: str, at: datetime
    ) -> Endpoint:
        values = {
            "url": url,
            "events": [e.value for e in events],
            "secret": secret,
            "active": True,
            "created_at": at,
            "created_by": by[:320],
        }
        endpoint_id = self.db.execute(insert(_E).values(values).returning(_E.c.id)).scalar_one()
        return Endpoint(id=endpoint_id, url=url, events=tuple(events), created_at=at, created_by=by)

    def endpoints(self, *, active_only: bool = True) -> list[Endpoint]:
        statement = select(_E).order_by(_E.c.id)
        if active_only:
            statement = statement.where(_E.c.active.is_(True))
        return [_endpoint(dict(row)) for row in self.db.execute(statement).mappings()]

    def endpoint(self, endpoint_id: int) -> Endpoint | None:
        row = self.db.execute(select(_E).where(_E.c.id == endpoint_id)).mappings().first()
        return _endpoint(dict(row)) if row is not None else None

    def endpoint_secret(self, endpoint_id: int) -> str:
        return str(self.db.execute(select(_E.c.secret).where(_E.c.id == endpoint_id)).scalar_one())

    def remove_endpoint(self, endpoint_id: int, at: datetime) -> bool:
        removed = (
            update(_E)
            .where(_E.c.id == endpoint_id, _E.c.active.is_(True))
            .values(active=False, removed_at=at)
            .returning(_E.c.id)
        )
        return self.db.execute(removed).first() is not None

    # --- what a payload says of a case --------------------------------------------------------

    def case_facts(self, case_ids: Collection[int]) -> dict[int, CaseFacts]:
        if not case_ids:
            return {}
        statement = (
            select(
                t.cases.c.id,
                t.cases.c.route,
                t.cases.c.status,
                t.cases.c.order_number,
                t.cases.c.lead_role,
                t.cases.c.opened_at,
                t.users.c.email,
            )
            .outerjoin(t.users, t.users.c.id == t.cases.c.assignee_user_id)
            .where(t.cases.c.id.in_(sorted(case_ids)))
        )
        return {
            row.id: CaseFacts(
                id=row.id,
                route=row.route,
                status=row.status,
                order_number=row.order_number,
                lead_role=row.lead_role,
                opened_at=row.opened_at,
                assignee=row.email or "",
            )
            for row in self.db.execute(statement)
        }

    # --- deliveries --------------------------------------------------------------------------

    def add_send(
        self, endpoint_id: int, event_id: int | None, event: str, body: str, at: datetime
    ) -> int | None:
        values = {
            "endpoint_id": endpoint_id,
            "event_id": event_id,
            "event": event,
            "body": body,
            "status": SendStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": at,
            "claimed_by": "",
            "created_at": at,
            "last_error": "",
        }
        dialect_insert = pg_insert if self.db.dialect.name == "postgresql" else sqlite_insert
        statement = (
            dialect_insert(_S)
            .values(values)
            .on_conflict_do_nothing(index_elements=[_S.c.endpoint_id, _S.c.event_id])
            .returning(_S.c.id)
        )
        found = self.db.execute(statement).first()
        return int(found.id) if found is not None else None

    def forget_sends(self, before: datetime) -> int:
        """Delete the deliveries that ended (sent, or failed for good) and were queued before
        ``before``, with their attempts; how many."""
        ended = select(_S.c.id).where(
            _S.c.status.in_((SendStatus.SENT.value, SendStatus.FAILED.value)), _S.c.created_at < before
        )
        self.db.execute(delete(_A).where(_A.c.send_id.in_(ended)))
        return int(self.db.execute(delete(_S).where(_S.c.id.in_(ended))).rowcount)

    def due_sends(self, now: datetime, limit: int) -> list[int]:
        statement = (
            select(_S.c.id)
            .where(_S.c.status == SendStatus.PENDING.value, _S.c.next_attempt_at <= now)
            .order_by(_S.c.next_attempt_at, _S.c.id)
            .limit(limit)
        )
        return list(self.db.execute(statement).scalars())

    def claim_send(self, send_id: int, at: datetime, by: str) -> WebhookSend | None:
        claim = (
            update(_S)
            .where(_S.c.id == send_id, _S.c.status == SendStatus.PENDING.value, _S.c.next_attempt_at <= at)
            .values(status=SendStatus.SENDING.value, claimed_at=at, claimed_by=by[:200])
            .returning(_S.c.id)
        )
        if self.db.execute(claim).first() is None:
            return None
        return self.send(send_id)

    def record_attempt(self, attempt: SendAttempt) -> None:
        values = {
            "send_id": attempt.send_id,
            "at": attempt.at,
            "status_code": attempt.status_code,
            "excerpt": attempt.excerpt[:200],
            "error": attempt.error[:_ERROR_LENGTH],
            "milliseconds": attempt.milliseconds,
        }
        self.db.execute(insert(_A).values(values))

    def finish_send(self, send_id: int, attempt: SendAttempt, next_attempt_at: datetime | None) -> None:
        if attempt.succeeded:
            status, sent_at = SendStatus.SENT, attempt.at
        else:
            status = SendStatus.PENDING if next_attempt_at is not None else SendStatus.FAILED
            sent_at = None
        finish = (
            update(_S)
            .where(_S.c.id == send_id)
            .values(
                status=status.value,
                attempts=_S.c.attempts + 1,
                next_attempt_at=next_attempt_at if status is SendStatus.PENDING else None,
                claimed_at=None,
                claimed_by="",
                sent_at=sent_at,
                last_status_code=attempt.status_code,
                last_error=attempt.error[:_ERROR_LENGTH],
            )
        )
        self.db.execute(finish)

    def release_stale_sends(self, before: datetime, error: str) -> int:
        stale = (
            update(_S)
            .where(_S.c.status == SendStatus.SENDING.value, _S.c.claimed_at < before)
            .values(
                status=SendStatus.PENDING.value,
                next_attempt_at=_S.c.claimed_at,
                claimed_at=None,
                claimed_by="",
                attempts=_S.c.attempts + 1,
                last_error=error[:_ERROR_LENGTH],
            )
            .returning(_S.c.id)
        )
        return len(self.db.execute(stale).all())

    def sends(
        self, limit: int = 50, *, endpoint_id: int | None = None, failed_only: bool = False
    ) -> list[WebhookSend]:
        statement = _SENDS.order_by(_S.c.id.desc()).limit(limit)
        if endpoint_id is not None:
            statement = statement.where(_S.c.endpoint_id == endpoint_id)
        if failed_only:
            statement = statement.where(_S.c.status == SendStatus.FAILED.value)
        return [_send(dict(row)) for row in self.db.execute(statement).mappings()]

    def send(self, send_id: int) -> WebhookSend | None:
        row = self.db.execute(_SENDS.where(_S.c.id == send_id)).mappings().first()
        return _send(dict(row)) if row is not None else None

    def attempts_of(self, send_ids: Collection[int]) -> dict[int, list[SendAttempt]]:
        found: dict[int, list[SendAttempt]] = {send_id: [] for send_id in send_ids}
        if not send_ids:
            return found
        statement = select(_A).where(_A.c.send_id.in_(sorted(send_ids))).order_by(_A.c.id)
        for row in self.db.execute(statement).mappings():
            found[row["send_id"]].append(
                SendAttempt(
                    send_id=row["send_id"],
                    at=row["at"],
                    status_code=row["status_code"],
                    excerpt=row["excerpt"],
                    error=row["error"],
                    milliseconds=row["milliseconds"],
                )
            )
        return found

    def replay(self, send_id: int, at: datetime) -> bool:
        again = (
            update(_S)
            .where(_S.c.id == send_id, _S.c.status != SendStatus.SENDING.value)
            .values(status=SendStatus.PENDING.value, attempts=0, next_attempt_at=at, sent_at=None)
            .returning(_S.c.id)
        )
        return self.db.execute(again).first() is not None


def _endpoint(row: Mapping[str, Any]) -> Endpoint:
    known = {e.value for e in WebhookEvent}
    return Endpoint(
        id=row["id"],
        url=row["url"],
        events=tuple(WebhookEvent(e) for e in row["events"] if e in known),
        created_at=row["created_at"],
        created_by=row["created_by"],
        active=row["active"],
    )


def _send(row: Mapping[str, Any]) -> WebhookSend:
    return WebhookSend(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        event=row["event"],
        body=row["body"],
        status=SendStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
    )


def webhooks_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlWebhookStore]]:
    """A factory: ``with webhooks() as store:`` is one transaction, committed when the block
    ends (``writes=False``: for reading only, it never waits for SQLite's write lock)."""
    return transactions(engine, SqlWebhookStore, writes=writes)
