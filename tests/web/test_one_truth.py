"""One truth per case page: the header, the routing card, the decision, the evidence checklist
and the dispute packet (its checklist and its evidence table) all read the case as it stands.

Given a buyer's where-is-my-order case opened before the store had the order's facts, when the
order's facts arrive (shipped five weeks ago: the promise window is long missed), the case is
re-routed to chargeback risk and an agent replies, then every panel says the same route, lead,
promise-window state and evidence, on the page and in the packet. On SQLite, and on PostgreSQL
when configured.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from aftersales.domain.orders import ScanStatus, TrackingEvent
from aftersales.domain.shop_events import ScanReport, ShopOrder
from aftersales.services.shopify_events import apply_event
from support.packet_story import order_1043

from .case_page import CasePage
from .test_web_desk import new_case

Headers = Callable[[Role], dict[str, str]]
BUYER = {"text": "Where is my order #1043? It has not moved for weeks.", "from": "ana.silva@example.com"}
MISSED = "The promise window is missed"
INSIDE = "Inside the promise window"
# the chargeback route's evidence items and the packet checklist's parts that hold the same fact
SAME_FACT = {
    "order_timeline": "order",
    "tracking": "tracking",
    "policy_version": "policy",
    "conversation": "conversation",
    "refund_record": "decision",
}


def store_the_order(app: FastAPI) -> None:
    """Order #1043 as Shopify's webhooks bring it: shipped five weeks ago, last scanned in
    Memphis a month ago."""
    web = app.state.web
    now = web.now()
    placed = now - timedelta(days=40)
    order = order_1043(placed)
    scan = TrackingEvent(
        event_id="scan-1",
        status=ScanStatus.IN_TRANSIT,
        happened_at=placed + timedelta(days=9),
        location="Memphis, TN",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )
    with web.desk.uow() as cases:
        apply_event(cases, web.kit, ShopOrder(order, "ana.silva@example.com", "Ana Silva"), now=now)
        apply_event(cases, web.kit, ScanReport("5550001043", scan), now=now)


def card_missing(page: CasePage) -> set[str]:
    shown = page.text("card-missing")
    return set() if shown == "none" else set(shown.split(", "))


def assert_the_page_agrees_with_itself(page: CasePage, route: str, lead: str) -> None:
    assert page.text("case-route") == route
    assert page.text("card-route") == route
    assert page.text("case-lead") == lead
    assert page.text("card-lead").startswith(f"{lead} (")
    assert page.text("decision-action") == page.text("card-decision")
    labels = _labels(page)
    missing = {labels[key] for key, present in page.evidence.items() if not present}
    assert card_missing(page) == missing


def _labels(page: CasePage) -> dict[str, str]:
    """Each evidence item's label as the evidence list shows it."""
    found = {}
    for key in page.evidence:
        item = page.html.split(f'data-key="{key}"', 1)[1]
        label = item.split('value="true"', 1)[1].split(">", 1)[1].split("</label>", 1)[0]
        found[key] = " ".join(label.split())
    return found


def test_every_panel_reads_the_case_as_it_stands_on_the_page_and_in_the_packet(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers, BUYER)
    signed_in(Role.OPERATIONS)
    opened = CasePage(client.get(f"/cases/{case_id}").text)
    assert opened.evidence["last_scan"] is False  # the store does not have the order yet

    store_the_order(app)
    shipping = CasePage(client.get(f"/cases/{case_id}").text)
    rerouted = client.post(f"/api/cases/{case_id}/route", json={"route": "chargeback_risk"}, headers=headers)
    replied = client.post(
        f"/api/cases/{case_id}/reply",
        json={"text": "Dana is looking at your order today; we will write by Tuesday 3 pm.", "force": True},
        headers=headers,
    )
    chargeback = CasePage(client.get(f"/cases/{case_id}").text)
    packet: dict[str, Any] = client.get(f"/cases/{case_id}/packet?format=json").json()

    # before the re-route: the order's facts count at once, and the window is missed everywhere
    assert_the_page_agrees_with_itself(shipping, "shipping delay", "Marcus Lee")
    assert shipping.text("decision-action").startswith(MISSED)
    assert INSIDE not in shipping.html
    assert shipping.evidence["last_scan"] is True
    assert shipping.evidence["promise_window"] is True
    # after it: the new route and its lead on every panel, and the reply counted as conversation
    assert (rerouted.status_code, replied.status_code) == (200, 200)
    assert_the_page_agrees_with_itself(chargeback, "chargeback risk", "Dana Whitfield")
    assert "Marcus Lee" not in chargeback.text("card")  # the card's trace may say the text reads as shipping
    assert chargeback.evidence == {
        # the shipping route's order number is not kept: nobody ticked it, and the new route
        # reads the same fact as its order timeline
        "order_timeline": True,
        "tracking": True,
        "policy_version": False,
        "conversation": True,
        "refund_record": False,  # no refund or reship decided yet
    }
    # the packet's evidence table and its checklist say what the page says
    table = {e["key"]: e["present"] for e in packet["evidence_items"] if e["case_id"] == case_id}
    checklist = {item["part"]: item["present"] for item in packet["checklist"]}
    assert table == chargeback.evidence
    assert {key: checklist[part] for key, part in SAME_FACT.items()} == {
        key: chargeback.evidence[key] for key in SAME_FACT
    }
    assert [c["lead"] for c in packet["cases"]] == ["Dana Whitfield"]
