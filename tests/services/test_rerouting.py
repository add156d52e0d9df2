"""Re-routing and confirming a case's route: `reroute`, `confirm_route`, and "check the route".

Given Ana's where-is-my-order case (shipping_delay, opened Tuesday 24 November 2026 10:00 New
York), when a person re-routes it, then the case is planned again for the new route in one
transaction (lead, decision and stop line, evidence, clocks under the rule that a re-route
never applies a stricter target to a clock already running), the timeline says who moved it
from where to where and why, and the message is kept as a labelled example. Runs on SQLite,
and on PostgreSQL when configured.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.cases import CaseNotFound
from aftersales.domain.corrections import LabelSource
from aftersales.domain.routes import Route
from aftersales.services.desk import EvidenceMark, mark_evidence
from aftersales.services.intake import Incoming, take_in
from aftersales.services.rerouting import Reroute, confirm_route, reroute
from aftersales.services.routing import RoutingKit, build_card
from support.messages import at, case_of, case_row, clocks, dump, events, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
VAGUE = "Hi, can you help me with something?"
BY = "Marcus Lee"


def open_case(
    uow: SqlUnitOfWork, kit: RoutingKit, text: str = WHERE_IS_1043, sender: str = "ana@example.com"
) -> int:
    return case_of(take_in(uow, kit, Incoming(message(text, sender=sender), "t"), now=at(24, 10)))


def labels(uow: SqlUnitOfWork) -> list[tuple[int | None, str, str, str, str]]:
    with uow() as cases:
        return [
            (label.case_id, label.text, label.route, label.source, label.by) for label in cases.route_labels()
        ]


def evidence_keys(uow: SqlUnitOfWork, case_id: int) -> set[str]:
    with uow() as cases:
        return {e["key"] for e in cases.evidence_of(case_id)}


REROUTES = [
    pytest.param(Route.DAMAGED_ITEM, "supply_chain", id="shipping_delay -> damaged_item: supply chain leads"),
    pytest.param(Route.CHARGEBACK_RISK, "founder", id="shipping_delay -> chargeback_risk: a stricter route"),
    pytest.param(Route.PRE_PURCHASE, "frontline", id="shipping_delay -> pre_purchase: a laxer route"),
]


@pytest.mark.parametrize(("route", "lead_role"), REROUTES)
def test_a_reroute_plans_the_case_again_for_the_new_route(
    uow: SqlUnitOfWork, kit: RoutingKit, route: Route, lead_role: str
) -> None:
    case_id = open_case(uow, kit)
    # the order number is only typed (no such order is stored): a person checked it and ticked it
    mark_evidence(uow, case_id, EvidenceMark(key="order_number", present=True, note="", by=BY, at=at(24, 10)))
    before = clocks(uow, case_id)
    with uow() as cases:
        in_hand = {e["key"] for e in cases.evidence_of(case_id) if e["present"]}

    card = reroute(
        uow, kit, Reroute(case_id=case_id, route=route, by=BY, at=at(24, 11), reason="reads wrong")
    )

    row = case_row(uow, case_id)
    fresh = build_card(kit, WHERE_IS_1043, now=at(24, 11), route=route)
    assert (row.route, row.lead_role, card.routing.route) == (route.value, lead_role, route)
    assert row.decision["stop_line"] == fresh.decision.stop_line
    assert row.decision["first_reply"] == card.first_reply
    assert row.route_check == ""
    # the new route's checklist; what was in hand (the order number) stays
    assert in_hand == {"order_number"}
    assert evidence_keys(uow, case_id) == {i.key for i in fresh.evidence.items} | in_hand
    # never a stricter target after the fact: the clocks already running keep theirs
    after = clocks(uow, case_id)
    assert after["first_response"] == before["first_response"]
    assert after["resolution"] == before["resolution"]
    kind, actor, data = events(uow, case_id)[-1 if route is not Route.CHARGEBACK_RISK else -2]
    assert (kind, actor) == ("rerouted", BY)
    assert {k: data[k] for k in ("from", "to", "by", "reason")} == {
        "from": "shipping_delay",
        "to": route.value,
        "by": BY,
        "reason": "reads wrong",
    }
    assert labels(uow) == [(case_id, WHERE_IS_1043, route, LabelSource.CORRECTION, BY)]


def test_a_reroute_keeps_a_decision_a_person_recorded(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    from aftersales.services.desk import record_decision

    case_id = open_case(uow, kit)
    record_decision(uow, case_id, "reship at our cost", by=BY, at=at(24, 10, 30))

    reroute(uow, kit, Reroute(case_id=case_id, route=Route.WRONG_ITEM, by=BY, at=at(24, 11)))

    decision = case_row(uow, case_id).decision
    assert (decision["recorded"], decision["recorded_by"]) == ("reship at our cost", BY)


def test_rerouting_to_the_route_it_has_confirms_it(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = open_case(uow, kit)

    reroute(uow, kit, Reroute(case_id=case_id, route=Route.SHIPPING_DELAY, by=BY, at=at(24, 11)))

    assert events(uow, case_id)[-1][:2] == ("route_confirmed", BY)
    assert labels(uow) == [(case_id, WHERE_IS_1043, Route.SHIPPING_DELAY, LabelSource.CONFIRMATION, BY)]


def test_a_failure_half_way_changes_nothing(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = open_case(uow, kit)
    before = dump(uow)
    # the clocks need the opening route's targets: without them the re-route fails after it
    # has written the checklist and the events, and all of it is rolled back
    broken = replace(kit, specs={r: s for r, s in kit.specs.items() if r is not Route.SHIPPING_DELAY})

    with pytest.raises(KeyError):
        reroute(uow, broken, Reroute(case_id=case_id, route=Route.DAMAGED_ITEM, by=BY, at=at(24, 11)))

    assert dump(uow) == before


def test_an_unknown_case_is_refused_and_nothing_changes(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    open_case(uow, kit)
    before = dump(uow)

    with pytest.raises(CaseNotFound, match="no case 999999"):
        reroute(uow, kit, Reroute(case_id=999999, route=Route.REVIEW, by=BY, at=at(24, 11)))
    with pytest.raises(CaseNotFound):
        confirm_route(uow, 999999, by=BY, at=at(24, 11))

    assert dump(uow) == before


# ----------------------------------------------------------------------------- check the route

CHECKS = [
    pytest.param(VAGUE, True, id="a vague message: the router was unsure, check the route"),
    pytest.param(WHERE_IS_1043, False, id="a clear where-is-my-order: no check"),
]


@pytest.mark.parametrize(("text", "checked"), CHECKS)
def test_intake_marks_a_case_whose_route_the_router_was_unsure_of(
    uow: SqlUnitOfWork, kit: RoutingKit, text: str, checked: bool
) -> None:
    row = case_row(uow, open_case(uow, kit, text))

    assert bool(row.route_check) is checked
    assert row.route_check.startswith("the router was unsure") is checked
    assert row.language == "en"  # detected at intake and kept on the case


def test_confirming_the_route_keeps_a_label_and_clears_the_check(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = open_case(uow, kit, VAGUE)
    route = case_row(uow, case_id).route

    confirmed = confirm_route(uow, case_id, by=BY, at=at(24, 11))

    assert confirmed.value == route
    assert case_row(uow, case_id).route_check == ""
    assert events(uow, case_id)[-1] == ("route_confirmed", BY, {"route": route})
    assert labels(uow) == [(case_id, VAGUE, Route(route), LabelSource.CONFIRMATION, BY)]


def test_the_queue_row_carries_the_check(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    vague, clear = open_case(uow, kit, VAGUE, "bo@example.com"), open_case(uow, kit)
    with uow() as cases:
        rows = {row.id: row.route_check for row in cases.list_cases(list(cases_open()))}

    assert rows[vague].startswith("the router was unsure")
    assert rows[clear] == ""


def cases_open() -> list[Any]:
    from aftersales.domain.cases import OPEN_STATUSES

    return sorted(OPEN_STATUSES)


def test_labels_are_kept_in_the_order_they_were_given(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    first, second = open_case(uow, kit, VAGUE, "bo@example.com"), open_case(uow, kit)
    moment = datetime(2026, 11, 24, 17, tzinfo=UTC)

    reroute(uow, kit, Reroute(case_id=second, route=Route.WRONG_ITEM, by="A", at=moment))
    confirm_route(uow, first, by="B", at=moment)

    assert [(c, s, b) for c, _, _, s, b in labels(uow)] == [
        (second, LabelSource.CORRECTION, "A"),
        (first, LabelSource.CONFIRMATION, "B"),
    ]
