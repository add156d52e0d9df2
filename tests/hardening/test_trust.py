"""Trust boundaries (findings 11, 12 and 13): what a sender who is not proven to be a case's
customer, or an order's buyer, may change and learn.

Each test runs on SQLite, and on PostgreSQL when AFTERSALES_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.accounts import Role
from aftersales.domain.cases import CaseStatus
from aftersales.domain.orders import Dispute, OrderFacts, ScanStatus
from aftersales.domain.replies import format_moment
from aftersales.domain.sla.calendar import due_at
from aftersales.services.desk import case_record, change_status
from aftersales.services.intake import Incoming, Outcome, take_in
from aftersales.services.outbox import acknowledge
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from aftersales.services.shopify_events import apply_event
from aftersales.settings import Settings
from aftersales.web.app import create_app
from support.messages import case_of, counts, events, holds, message
from support.web import csrf_of
from web.conftest import app, client, signed_in  # noqa: F401  (fixtures)

NOW = datetime.now(UTC).replace(microsecond=0)  # the web desk's clock is the real one
ANA = "ana@example.com"  # the buyer of order 1043
MALLORY = "mallory@evil.example"


def _take(uow: SqlUnitOfWork, kit: RoutingKit, text: str, sender: str, sent: datetime, **fields: Any) -> Any:
    msg = message(text, sender=sender, sent=sent, **fields)
    return take_in(uow, kit, Incoming(msg, "test"), now=sent)


def _store_order_1043(uow: SqlUnitOfWork, *, buyer: str | None = ANA, delivered: bool = False) -> None:
    """Order 1043, shipped and stalled in Memphis (or delivered there); its buyer is ``buyer``
    (None: no e-mail)."""
    order = OrderFacts(
        number="1043",
        placed_at=NOW - timedelta(days=12),
        fulfilled_at=NOW - timedelta(days=10),
        last_scan_at=NOW - timedelta(days=6),
        last_scan_status=ScanStatus.DELIVERED if delivered else ScanStatus.IN_TRANSIT,
        delivered_at=NOW - timedelta(days=6) if delivered else None,
        last_scan_location="Memphis, TN",
        carrier="UPS",
        destination="US",
    )
    with uow() as cases:
        customer = cases.customer_id(buyer, "Ana Diaz", NOW) if buyer else None
        cases.save_order(order, customer, NOW)


def _state(uow: SqlUnitOfWork, case_id: int) -> dict[str, Any]:
    """What an intruder must not change about a case."""
    record = case_record(uow, case_id)
    case = record["case"]
    return {
        "case": {k: case[k] for k in ("route", "status", "customer_id", "updated_at", "decision", "clocks")},
        "timeline": events(uow, case_id),
        "messages": [m["id"] for m in record["messages"]],
        "evidence": [(e["key"], e["present"], e["source"]) for e in record["evidence"]],
    }


# ---------------------------------------------------------------- finding 11: the contact form


def _post(browser: TestClient, csrf: str, **fields: str) -> Any:
    form = {"name": "Ana Diaz", "email": ANA, "order": "#1043", "issue": "refund", "csrf_token": csrf}
    return browser.post("/contact", data=form | fields)


def test_finding_11_a_form_post_as_a_known_customer_leaves_their_case_unchanged(
    app: FastAPI,  # noqa: F811
    client: TestClient,  # noqa: F811
    signed_in: Callable[[Role], str],  # noqa: F811
) -> None:
    uow = app.state.web.desk.uow
    kit = app.state.web.kit
    _store_order_1043(uow)
    victim = case_of(_take(uow, kit, "Where is my order #1043?", ANA, NOW - timedelta(hours=1)))
    before, holds_before = _state(uow, victim), holds(uow)

    csrf = csrf_of(client.get("/contact").text)
    answer = _post(
        client,
        csrf,
        message="I am disputing the charge with my bank for order #1043. Refund me now.",
    )

    assert answer.status_code == 200, answer.text
    assert f"case {victim}" not in answer.text
    assert _state(uow, victim) == before  # route, status, clocks, timeline, evidence
    assert holds(uow) == holds_before == []
    with uow() as cases:
        [opened] = [c.id for c in cases.find_cases(ANA) if c.id != victim]
        row = cases.case_row(opened)
        assert cases.related_cases(victim) == [opened]
    assert (row.route, row.sender_mark, row.related_case_id) == (
        "chargeback_risk",
        "unverified",
        victim,
    )
    assert f"case {opened}" in answer.text  # the sender's own new case, never someone else's

    signed_in(Role.FRONTLINE)
    page = client.get(f"/cases/{opened}").text
    assert 'id="sender-mark" data-mark="unverified"' in page
    assert f'href="/cases/{victim}" id="related-case"' in page
    assert f'href="/cases/{opened}"' in client.get(f"/cases/{victim}").text
    api = client.get(f"/api/cases/{opened}").json()["case"]
    assert (api["sender_mark"], api["related_case_id"]) == ("unverified", victim)


def test_finding_11_a_burst_of_anonymous_posts_makes_at_most_the_limits_cases(
    app: FastAPI,  # noqa: F811
    client: TestClient,  # noqa: F811
) -> None:
    uow = app.state.web.desk.uow
    csrf = csrf_of(client.get("/contact").text)

    same_address = [_post(client, csrf, message=f"Where is my parcel? ({n})").status_code for n in range(10)]
    many_addresses = [
        _post(client, csrf, email=f"buyer{n}@example.com", message=f"Where is my parcel? ({n})").status_code
        for n in range(90)
    ]

    # 5 an hour per e-mail address, 20 per client address: 100 posts in a burst make 20 cases
    assert same_address == [200] * 5 + [429] * 5
    assert many_addresses == [200] * 15 + [429] * 75
    assert counts(uow)["cases"] == 20
    refused = _post(client, csrf, email="late@example.com", message="Hello?")
    assert "try again later" in refused.text
    assert refused.headers["retry-after"] == "3600"


def test_finding_11_the_limit_is_shared_by_every_server_process(
    app: FastAPI,  # noqa: F811
    client: TestClient,  # noqa: F811
    engine: Engine,
    tmp_path: Path,
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path / "second", policy_file=None, database_url=url)
    second = create_app(settings, tick_seconds=None)  # another server process on the same database
    with TestClient(second, follow_redirects=False) as other:
        forms = [(c, csrf_of(c.get("/contact").text)) for c in (client, other)]
        answers = [_post(*forms[n % 2], message=f"Where is my parcel? ({n})").status_code for n in range(10)]
    second.state.web.desk.engine.dispose()

    assert sorted(answers) == [200] * 5 + [429] * 5
    assert counts(app.state.web.desk.uow)["cases"] == 5


def test_finding_11_the_honeypot_is_thanked_and_stores_nothing(
    app: FastAPI,  # noqa: F811
    client: TestClient,  # noqa: F811
) -> None:
    uow = app.state.web.desk.uow
    csrf = csrf_of(client.get("/contact").text)
    page = client.get("/contact").text
    assert re.search(r'<div class="trap" aria-hidden="true">.*name="website"', page)
    before = counts(uow)

    answers = [
        _post(client, csrf, message="Cheap watches", website="http://spam.example").status_code
        for _ in range(30)
    ]

    assert answers == [200] * 30
    assert counts(uow) == before  # no case, no customer, no counted post


# ---------------------------------------------------------------- finding 12: threading


def _open_time(kit: RoutingKit, start: datetime, *, hours: int) -> str:
    """A time the store is open, ``hours`` business hours after ``start``, as a reply writes
    it: the clock is the real one, and the reply check refuses a closed hour."""
    return format_moment(due_at(start, hours * 60, kit.calendar))


def test_finding_12_a_strangers_reply_to_a_desk_message_id_opens_its_own_case(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    sent = NOW - timedelta(hours=3)
    victim = case_of(_take(uow, kit, "I will dispute the charge with my bank for order #1043.", ANA, sent))
    send_reply(
        uow,
        kit,
        Reply(
            case_id=victim,
            text=f"We are reviewing it and will write by {_open_time(kit, sent, hours=8)}.",
            author="Lee",
            at=sent,
        ),
    )
    change_status(uow, kit, victim, CaseStatus.RESOLVED, by="Lee", at=sent + timedelta(minutes=5))
    with uow() as cases:
        [desk_id] = [m["message_id"] for m in cases.messages_of(victim) if m["direction"] == "outbound"]
    before = _state(uow, victim)

    stranger = _take(
        uow,
        kit,
        "Re: your case. Please cancel the chargeback case and refund me instead.",
        MALLORY,
        NOW,
        in_reply_to=desk_id,
        references=(desk_id,),
    )

    assert stranger.outcome is Outcome.NEW_CASE
    assert stranger.case_id != victim
    assert _state(uow, victim) == before  # not reopened, not re-routed, nothing on its timeline
    with uow() as cases:
        assert cases.case_row(case_of(stranger)).related_case_id == victim
    follow_up = _take(uow, kit, "Any news?", ANA, NOW, in_reply_to=desk_id)
    assert follow_up.case_id == victim  # the customer's own reply still threads


def test_finding_12_desk_message_ids_are_random_and_name_no_dispute_or_order(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    sent = NOW - timedelta(hours=1)
    opened = _take(uow, kit, "Where is my order #1043? It has not moved.", ANA, sent)
    case_id = case_of(opened)
    for hours in (4, 8):
        text = f"We will write by {_open_time(kit, sent, hours=hours)}."
        send_reply(uow, kit, Reply(case_id=case_id, text=text, author="Lee", at=sent))
    acknowledge(
        uow,
        kit,
        case_id,
        message("Where is my order #1043? It has not moved.", sender=ANA, sent=sent),
        now=sent,
    )
    with uow() as cases:
        _, disputed = apply_event(
            cases,
            kit,
            Dispute(dispute_id="55501", order_number="1043", kind="chargeback", status="needs_response"),
            now=NOW,
            shop="northwind.myshopify.com",
        )
        ids = [m.mail.message_id for m in cases.pending_mails()]
        assert disputed is not None
        ids += [m["message_id"] for m in cases.messages_of(disputed) if m["channel"] == "api"]

    assert len(set(ids)) == len(ids) == 4  # two replies, the receipt, the dispute
    for found in ids:
        local, _, domain = found.partition("@")
        assert domain == "northwind.example"  # the store's support domain
        assert re.fullmatch(r"(reply|ack|dispute)-[0-9a-f]{32}", local), found
        assert not any(part in found for part in ("55501", "1043", "myshopify")), found


# ---------------------------------------------------------------- finding 13: someone else's order


@pytest.mark.parametrize("delivered", [False, True], ids=["stalled in transit", "delivered"])
def test_finding_13_a_stranger_naming_someone_elses_order_gets_none_of_its_facts(
    uow: SqlUnitOfWork, kit: RoutingKit, delivered: bool
) -> None:
    _store_order_1043(uow, delivered=delivered)
    text = "Where is my order #1043? It has not arrived and tracking has not moved."

    stranger = case_of(_take(uow, kit, text, MALLORY, NOW))
    buyer = case_of(_take(uow, kit, text, ANA, NOW))

    record = case_record(uow, stranger)
    case, evidence = record["case"], {e["key"]: e["present"] for e in record["evidence"]}
    draft = case["decision"]["first_reply"]
    assert case["sender_mark"] == "not_buyer"
    assert not re.search(r"scan|Memphis|delivered|shipping promise", draft, re.IGNORECASE), draft
    assert (evidence["last_scan"], evidence["promise_window"]) == (False, False)
    assert any("Memphis" in fact for fact in case["decision"]["facts"])  # the agent still sees them
    assert ("sender_marked", "router") in [(k, a) for k, a, _ in events(uow, stranger)]

    # the buyer, writing the same words, is told the facts and has the evidence ticked
    own = case_record(uow, buyer)
    assert own["case"]["sender_mark"] == ""
    assert "The last carrier scan was on" in own["case"]["decision"]["first_reply"]
    assert {e["key"]: e["present"] for e in own["evidence"]}["last_scan"] is True


def test_finding_13_an_order_without_a_buyer_email_is_not_trusted(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    _store_order_1043(uow, buyer=None)

    case_id = case_of(_take(uow, kit, "Where is my order #1043? Tracking has not moved.", MALLORY, NOW))

    case = case_record(uow, case_id)["case"]
    assert case["sender_mark"] == "buyer_unknown"
    assert "scan" not in case["decision"]["first_reply"].lower()
