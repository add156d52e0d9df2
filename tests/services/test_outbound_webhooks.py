"""Outbound webhooks end to end on SQLite and PostgreSQL, posted over real HTTP to a
receiver on 127.0.0.1: each event arrives once, signed; a receiver that fails twice gets it on
the third try; a failed delivery is replayed by hand; two workers never post one delivery."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.outbound_webhooks import SqlWebhookStore, webhooks_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.webhook_poster import HttpWebhookPoster
from aftersales.domain.cases import Event
from aftersales.domain.errors import InputError
from aftersales.domain.jobs import RetryPolicy
from aftersales.domain.outbound_webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    SendStatus,
    signature_problem,
)
from aftersales.services.outbound_webhooks import (
    Relayed,
    SendRules,
    add_endpoint,
    forget_old_deliveries,
    queue_test,
    relay_events,
    remove_endpoint,
    replay,
    send_due,
    send_now,
)
from support.feed import open_told_case
from support.webhook_receiver import Received, Receiver, receiving

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
Hooks = Callable[[], AbstractContextManager[SqlWebhookStore]]


@pytest.fixture
def hooks(engine: Engine, uow: SqlUnitOfWork) -> Hooks:  # uow: the tables emptied first
    return webhooks_unit_of_work(engine)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def poster() -> Iterator[HttpWebhookPoster]:
    made = HttpWebhookPoster(timeout=5.0)
    yield made
    made.close()


def _open(uow: SqlUnitOfWork, email: str, *, at: datetime = AT) -> int:
    return open_told_case(uow, email, at=at, routed=True)


def _verified(secret: str, request: Received) -> dict[str, object]:
    header = request.headers[SIGNATURE_HEADER]
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert signature_problem(secret, header, request.body, now=stamp) is None
    document: dict[str, object] = json.loads(request.body)
    assert request.headers[EVENT_HEADER] == document["event"]
    return document


def test_each_subscribed_event_arrives_once_signed(
    hooks: Hooks, uow: SqlUnitOfWork, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    _open(uow, "before@example.com")  # before any endpoint: never told
    relay_events(hooks, now=AT)
    endpoint, secret = add_endpoint(
        hooks, receiver.url, ["case.opened", "case.status_changed"], by="admin@example.com", at=AT
    )
    other, _ = add_endpoint(hooks, receiver.url + "/other", ["case.breached"], by="admin@example.com", at=AT)
    case_id = _open(uow, "ana@example.com")
    with uow() as cases:
        cases.add_event(case_id, Event("status_changed", AT, "Ana", {"from": "new", "to": "open"}))
        cases.add_event(case_id, Event("note_added", AT, "Ana", {"text": "private words"}))

    assert relay_events(hooks, now=AT).queued == 2
    assert relay_events(hooks, now=AT).queued == 0  # a second relay (another worker) finds nothing new
    summary = send_due(hooks, poster, now=AT)
    assert summary.as_dict() == {"sent": 2, "retrying": 0, "failed": 0}
    assert send_due(hooks, poster, now=AT + timedelta(hours=1)).as_dict() == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
    }

    documents = [_verified(secret, r) for r in receiver.received]
    assert [(d["event"], d["case"]["id"], d["case"]["status"]) for d in documents] == [  # type: ignore[index]
        ("case.opened", case_id, "new"),
        ("case.status_changed", case_id, "open"),
    ]
    assert {r.path for r in receiver.received} == {"/hooks"}
    assert b"private words" not in b"".join(r.body for r in receiver.received)
    with hooks() as store:
        sends = store.sends()
        ids = {str(s.id) for s in sends}
        assert {r.headers[DELIVERY_HEADER] for r in receiver.received} == ids
        assert all(s.status is SendStatus.SENT for s in sends)
        assert all(s.endpoint_id == endpoint.id for s in sends)
        assert store.sends(endpoint_id=other.id) == []
    # a forged signature (another secret) fails verification
    request = receiver.received[0]
    stamp = int(request.headers[SIGNATURE_HEADER].split(",")[0].removeprefix("t="))
    assert signature_problem("whsec_wrong", request.headers[SIGNATURE_HEADER], request.body, now=stamp)
    # and the same delivery replayed to the receiver an hour later is refused by it
    assert signature_problem(secret, request.headers[SIGNATURE_HEADER], request.body, now=stamp + 3600)


def test_a_receiver_failing_twice_gets_the_event_on_the_third_try(
    hooks: Hooks, uow: SqlUnitOfWork, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    relay_events(hooks, now=AT)
    _, secret = add_endpoint(hooks, receiver.url, ["case.opened"], by="admin@example.com", at=AT)
    _open(uow, "ana@example.com")
    relay_events(hooks, now=AT)
    receiver.script = [500, 500]

    steps = [
        (AT, {"sent": 0, "retrying": 1, "failed": 0}),
        (AT + timedelta(seconds=10), {"sent": 0, "retrying": 0, "failed": 0}),  # not due before its backoff
        (AT + timedelta(seconds=30), {"sent": 0, "retrying": 1, "failed": 0}),
        (AT + timedelta(seconds=30 + 89), {"sent": 0, "retrying": 0, "failed": 0}),
        (AT + timedelta(seconds=30 + 90), {"sent": 1, "retrying": 0, "failed": 0}),
    ]
    for now, expected in steps:
        assert send_due(hooks, poster, now=now).as_dict() == expected, now

    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1  # the same document every time
    assert [_verified(secret, r)["event"] for r in receiver.received] == ["case.opened"] * 3
    with hooks() as store:
        (send,) = store.sends()
        log = store.attempts_of([send.id])[send.id]
    assert send.status is SendStatus.SENT
    assert [(a.status_code, a.error) for a in log] == [
        (500, "the receiver answered 500"),
        (500, "the receiver answered 500"),
        (200, ""),
    ]
    assert log[0].excerpt == "<html>internal error in the receiver</html>"
    assert all(a.milliseconds >= 0 for a in log)


def test_a_failed_delivery_is_replayed_by_hand(
    hooks: Hooks, uow: SqlUnitOfWork, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    relay_events(hooks, now=AT)
    add_endpoint(hooks, receiver.url, ["case.opened"], by="admin@example.com", at=AT)
    _open(uow, "ana@example.com")
    relay_events(hooks, now=AT)
    receiver.default = 503
    rules = SendRules(retry=RetryPolicy(max_attempts=2, first_seconds=0.0))
    assert send_due(hooks, poster, now=AT, rules=rules).retrying == 1
    assert send_due(hooks, poster, now=AT, rules=rules).failed == 1
    assert send_due(hooks, poster, now=AT + timedelta(days=1), rules=rules).as_dict()["failed"] == 0
    with hooks() as store:
        (send,) = store.sends(failed_only=True)
    assert send.attempts == 2
    assert send.last_status_code == 503

    receiver.default = 200
    replayed = replay(hooks, send.id, now=AT + timedelta(days=1))
    assert replayed.status is SendStatus.PENDING
    assert send_due(hooks, poster, now=AT + timedelta(days=1), rules=rules).sent == 1
    assert len(receiver.received) == 3
    assert receiver.received[-1].body == receiver.received[0].body
    # a sent one can be replayed too (the receiver lost it)
    replay(hooks, send.id, now=AT + timedelta(days=2))
    assert send_now(hooks, poster, send.id, now=AT + timedelta(days=2)).status is SendStatus.SENT
    assert len(receiver.received) == 4
    with pytest.raises(InputError, match="no webhook delivery 9999"):
        replay(hooks, 9999, now=AT)


def test_two_workers_never_post_one_delivery_and_a_stopped_worker_is_taken_over(
    hooks: Hooks, uow: SqlUnitOfWork, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    relay_events(hooks, now=AT)
    add_endpoint(hooks, receiver.url, ["case.opened"], by="admin@example.com", at=AT)
    _open(uow, "ana@example.com")
    relay_events(hooks, now=AT)
    with hooks() as store:
        (send_id,) = store.due_sends(AT, 10)
        assert store.claim_send(send_id, AT, "host:1") is not None
    with hooks() as store:
        assert store.claim_send(send_id, AT, "host:2") is None
    # host:1 died holding it: within the lease nobody sends it, after it another worker does
    assert send_due(hooks, poster, now=AT + timedelta(minutes=1)).sent == 0
    assert send_due(hooks, poster, now=AT + timedelta(minutes=6)).sent == 1
    assert len(receiver.received) == 1


def test_a_removed_endpoint_hears_nothing_more_and_bad_input_writes_nothing(
    hooks: Hooks, uow: SqlUnitOfWork, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    relay_events(hooks, now=AT)
    endpoint, _ = add_endpoint(hooks, receiver.url, ["case.opened"], by="admin@example.com", at=AT)
    remove_endpoint(hooks, endpoint.id, at=AT)
    _open(uow, "ana@example.com")
    assert relay_events(hooks, now=AT).queued == 0
    with pytest.raises(InputError, match="no webhook endpoint"):
        remove_endpoint(hooks, endpoint.id, at=AT)
    with pytest.raises(InputError, match="only http and https"):
        add_endpoint(hooks, "file:///etc/passwd", ["case.opened"], by="a", at=AT)
    with pytest.raises(InputError, match="unknown event"):
        add_endpoint(hooks, receiver.url, ["case.closed"], by="a", at=AT)
    with hooks() as store:
        assert store.endpoints() == []
        assert [e.id for e in store.endpoints(active_only=False)] == [endpoint.id]
        rows = store.db.execute(select(schema.webhook_endpoints.c.id)).all()
    assert len(rows) == 1


def test_a_test_delivery_reaches_the_receiver_and_a_dead_one_is_logged(
    hooks: Hooks, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    endpoint, secret = add_endpoint(hooks, receiver.url, ["case.opened"], by="a", at=AT)
    sent = send_now(hooks, poster, queue_test(hooks, endpoint.id, now=AT).id, now=AT)
    assert sent.status is SendStatus.SENT
    assert _verified(secret, receiver.received[0])["event"] == "webhook.test"

    dead_url = receiver.url.replace("/hooks", "/gone")
    with receiving() as closed:
        dead_url = closed.url
    dead, _ = add_endpoint(hooks, dead_url, ["case.opened"], by="a", at=AT)
    failed = send_now(hooks, poster, queue_test(hooks, dead.id, now=AT).id, now=AT)
    assert failed.status is SendStatus.PENDING  # tried again later
    assert failed.last_status_code is None
    assert "ConnectError" in failed.last_error


def test_workers_relaying_and_sending_at_once_deliver_each_event_once(
    hooks: Hooks, uow: SqlUnitOfWork, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    relay_events(hooks, now=AT)
    add_endpoint(hooks, receiver.url, ["case.opened", "case.routed"], by="admin@example.com", at=AT)
    for n in range(6):
        _open(uow, f"buyer{n}@example.com")  # 12 events told: opened and routed, six times

    def relay() -> int:
        return sum(relay_events(hooks, now=AT, limit=2).queued for _ in range(8))

    def send(worker: str) -> int:
        rules = SendRules(by=worker, limit=3)
        return sum(send_due(hooks, poster, now=AT, rules=rules).sent for _ in range(6))

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert sum(pool.map(lambda _: relay(), range(3))) == 12
        assert sum(pool.map(send, ["host:1", "host:2", "host:3"])) == 12
    bodies = [json.loads(r.body)["id"] for r in receiver.received]
    assert len(bodies) == 12
    assert len(set(bodies)) == 12


def test_ended_deliveries_are_forgotten_after_thirty_days_and_pending_ones_kept(
    hooks: Hooks, receiver: Receiver, poster: HttpWebhookPoster
) -> None:
    endpoint, _ = add_endpoint(hooks, receiver.url, ["case.opened"], by="a", at=AT)
    sent = send_now(hooks, poster, queue_test(hooks, endpoint.id, now=AT).id, now=AT)
    waiting = queue_test(hooks, endpoint.id, now=AT)

    assert forget_old_deliveries(hooks, now=AT + timedelta(days=29)) == 0
    assert forget_old_deliveries(hooks, now=AT + timedelta(days=31)) == 1
    with hooks() as store:
        assert (store.send(sent.id), store.send(waiting.id) is not None) == (None, True)
        assert store.attempts_of([sent.id]) == {sent.id: []}


def test_with_no_endpoint_the_feed_is_skipped_unread(
    hooks: Hooks, uow: SqlUnitOfWork, engine: Engine
) -> None:
    for number in range(3):
        _open(uow, f"early{number}@example.com")  # a backlog nobody is told of (a big import)

    assert relay_events(hooks, now=AT) == Relayed(0, 0)
    with engine.connect() as db:
        newest = db.execute(select(schema.events.c.id).order_by(schema.events.c.id.desc())).scalars().first()
        cursor = db.execute(
            select(schema.event_cursors.c.last_event_id).where(schema.event_cursors.c.consumer == "webhooks")
        ).scalar_one()
    assert cursor == newest
