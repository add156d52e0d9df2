"""The queue's listing on both databases: the two orders, the filters, full-text search kept
in the message's own transaction, and the last message's preview (adapters/db/queue.py,
adapters/db/search.py, migration 0013)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from aftersales.adapters.db import search
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.accounts import Role
from aftersales.domain.cases import CaseStatus
from aftersales.domain.messages import Channel, Direction, InboundMessage
from aftersales.domain.queue import QueueOrder, QueueQuery
from aftersales.domain.routes import Route

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _message(n: int, body: str, *, sent_at: datetime = AT, name: str = "") -> InboundMessage:
    return InboundMessage(
        message_id=f"m{n}@example.com",
        dedupe_key=f"m{n}",
        channel=Channel.EMAIL,
        from_address="",
        from_name=name,
        to_addresses=(),
        subject=f"Message {n}",
        sent_at=sent_at,
        body=body,
        full_body=body,
        html="",
    )


def _case(cases: Any, customer: int, route: Route, **fields: Any) -> int:
    return int(
        cases.open_case(
            {
                "customer_id": customer,
                "order_number": "",
                "subject": "",
                "route": route.value,
                "secondary_routes": [],
                "confidence": 0.9,
                "status": CaseStatus.NEW.value,
                "lead_role": "operations",
                "lead_name": "Marcus Lee",
                "decision": {},
                "write_back": [],
                "clocks": [],
                "next_due_at": AT,
                "risk": 0,
                "opened_at": AT,
                "updated_at": AT,
            }
            | fields
        )
    )


@pytest.fixture
def queue(uow: SqlUnitOfWork, engine: Engine) -> dict[str, int]:
    """Given: six cases of three customers, one assigned to Sam, each with messages."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, name, role, password_hash, active, created_at) "
                "VALUES ('sam@northwind.example', 'Sam Reyes', :role, 'x', true, :at)"
            ),
            {"role": Role.FRONTLINE.value, "at": AT.isoformat()},
        )
        sam = connection.execute(text("SELECT id FROM users")).scalar_one()
    with uow() as cases:
        ana = cases.customer_id("ana.silva@example.com", "Ana Silva", AT)
        bo = cases.customer_id("bo@example.com", "Bo Lindqvist", AT)
        cy = cases.customer_id("cy@example.com", "Cy Moreau", AT)
        made = {
            # a late address change, due first of all
            "late_change": _case(cases, bo, Route.CANCEL_OR_CHANGE, risk=2, next_due_at=AT - 5 * HOUR),
            "threat": _case(
                cases, ana, Route.CHARGEBACK_RISK, next_due_at=AT + 9 * HOUR, order_number="1043"
            ),
            "late_damage": _case(cases, cy, Route.DAMAGED_ITEM, risk=2, next_due_at=AT - HOUR),
            "soon_damage": _case(
                cases, bo, Route.DAMAGED_ITEM, risk=1, next_due_at=AT + HOUR, assignee_user_id=sam
            ),
            "waiting": _case(
                cases, cy, Route.CHARGEBACK_RISK, status="waiting_on_customer", next_due_at=None
            ),
            "closed": _case(cases, ana, Route.CHARGEBACK_RISK, status="closed", next_due_at=None),
        }
        bodies = {
            "late_change": "Please send it to my office instead.",
            "threat": "Still nothing. I will dispute the charge with my bank.",
            "late_damage": "The tumbler arrived dented.",
            "soon_damage": "The lid is cracked and the box was crushed.",
            "waiting": "Here is the photo you asked for.",
            "closed": "Thanks, the refund arrived.",
        }
        for n, (key, body) in enumerate(bodies.items()):
            cases.add_message(made[key], _message(n, body), Direction.INBOUND)
    return made | {"sam": sam}


def _listed(uow: SqlUnitOfWork, **query: Any) -> list[int]:
    with uow() as cases:
        return [row.id for row in cases.queue(QueueQuery(**query))]


def test_act_now_first_puts_the_riskiest_route_first_and_waiting_cases_after(
    uow: SqlUnitOfWork, queue: dict[str, int]
) -> None:
    assert _listed(uow) == [
        queue[k] for k in ("threat", "late_damage", "soon_damage", "late_change", "waiting")
    ]


def test_most_overdue_first_ignores_the_route(uow: SqlUnitOfWork, queue: dict[str, int]) -> None:
    assert _listed(uow, order=QueueOrder.OVERDUE) == [
        queue[k] for k in ("late_change", "late_damage", "soon_damage", "threat", "waiting")
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"route": Route.DAMAGED_ITEM}, ["late_damage", "soon_damage"], id="route"),
        pytest.param({"breaching": True}, ["late_damage", "soon_damage", "late_change"], id="breaching"),
        pytest.param({"statuses": frozenset({CaseStatus.CLOSED})}, ["closed"], id="one status"),
        pytest.param(
            {"statuses": frozenset(CaseStatus), "route": Route.CHARGEBACK_RISK},
            ["threat", "waiting", "closed"],
            id="closed ones too, last",
        ),
        pytest.param({"unassigned": True, "route": Route.DAMAGED_ITEM}, ["late_damage"], id="unassigned"),
        pytest.param(
            {"lead": "marc"}, ["threat", "late_damage", "soon_damage", "late_change", "waiting"], id="lead"
        ),
        pytest.param({"lead": "arcus"}, [], id="lead: not inside a word"),
        pytest.param({"search": "ana"}, ["threat"], id="search: a customer's first name"),
        pytest.param({"search": "Lindq"}, ["soon_damage", "late_change"], id="search: start of a last name"),
        pytest.param({"search": "bo@example.com"}, ["soon_damage", "late_change"], id="search: an e-mail"),
        pytest.param({"search": "#1043"}, ["threat"], id="search: an order number"),
        pytest.param({"search": "DENTED"}, ["late_damage"], id="search: a word of a message, any case"),
        pytest.param({"search": "crush box"}, ["soon_damage"], id="search: every word, as prefixes"),
        pytest.param({"search": "refund"}, [], id="search: closed cases only when asked for"),
        pytest.param(
            {"search": "refund", "statuses": frozenset(CaseStatus)}, ["closed"], id="search: with closed ones"
        ),
        pytest.param({"search": '"charge"* (bank'}, ["threat"], id="search: query syntax is plain words"),
        pytest.param({"search": "?!"}, [], id="search: nothing to look for"),
    ],
)
def test_filters_and_search(
    uow: SqlUnitOfWork, queue: dict[str, int], query: dict[str, Any], expected: list[str]
) -> None:
    assert _listed(uow, **query) == [queue[k] for k in expected]


def test_an_assignee_s_cases_and_the_row_shows_who(uow: SqlUnitOfWork, queue: dict[str, int]) -> None:
    with uow() as cases:
        [row] = cases.queue(QueueQuery(assignee_id=queue["sam"]))

    assert (row.id, row.assignee_email, row.assignee_name) == (
        queue["soon_damage"],
        "sam@northwind.example",
        "Sam Reyes",
    )


def test_a_message_is_searchable_in_its_own_transaction_and_gone_with_its_rollback(
    uow: SqlUnitOfWork, queue: dict[str, int]
) -> None:
    class Abandon(Exception):
        pass

    seen_inside: list[int] = []

    def write_then_fail() -> None:
        with uow() as cases:
            cases.add_message(queue["late_change"], _message(90, "Zebra-striped wrapping"), Direction.INBOUND)
            seen_inside.extend(r.id for r in cases.queue(QueueQuery(search="zebra")))
            raise Abandon

    with pytest.raises(Abandon):
        write_then_fail()

    assert seen_inside == [queue["late_change"]]
    assert _listed(uow, search="zebra") == []


def test_the_preview_is_the_latest_message_even_when_an_older_one_arrives_later(
    uow: SqlUnitOfWork, queue: dict[str, int]
) -> None:
    case_id = queue["late_change"]
    with uow() as cases:
        cases.add_message(
            case_id, _message(91, "We changed the address.", sent_at=AT + 2 * HOUR), Direction.OUTBOUND
        )
        cases.add_message(
            case_id, _message(92, "An older mail, delivered late.", sent_at=AT + HOUR), Direction.INBOUND
        )

    with uow() as cases:
        [row] = [r for r in cases.queue(QueueQuery()) if r.id == case_id]
    assert (row.preview, row.last_direction) == ("We changed the address.", "outbound")


def test_a_deleted_message_leaves_the_search(
    uow: SqlUnitOfWork, engine: Engine, queue: dict[str, int]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM messages WHERE body LIKE '%dented%'"))

    assert _listed(uow, search="dented") == []
    assert _listed(uow, search="cracked") == [queue["soon_damage"]]


def test_a_renamed_customer_is_found_by_the_new_name(
    uow: SqlUnitOfWork, engine: Engine, queue: dict[str, int]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE customers SET name = 'Ana Rocha' WHERE name = 'Ana Silva'"))

    assert (_listed(uow, search="rocha"), _listed(uow, search="silva")) == (
        [queue["threat"]],
        [queue["threat"]],
    )


def test_a_waiting_case_is_not_red_for_a_breach_from_before_the_wait(
    uow: SqlUnitOfWork, queue: dict[str, int]
) -> None:
    with uow() as cases:
        cases.update_case(queue["waiting"], {"risk": 0})
        rows = {r.id: r for r in cases.queue(QueueQuery())}

    assert (rows[queue["waiting"]].sla.value, rows[queue["late_damage"]].sla.value) == ("waiting", "breached")
    assert replace(rows[queue["waiting"]], risk=2).sla.value == "breached"


def test_a_search_says_when_its_words_are_in_more_messages_than_it_looks_at(
    uow: SqlUnitOfWork, queue: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MESSAGE_HITS", 2)  # four messages have "the"; one has "dented"
    with uow() as cases:
        assert (cases.search_is_capped("the"), cases.search_is_capped("dented")) == (True, False)
        assert cases.search_is_capped("?!") is False
