"""The demo store's planted payment dispute, applied through the real webhook service.

``aftersales demo`` calls ``seed_demo_disputes`` after the week's messages are in, so the
dispute threads into the buyer's open case on the order (see data/demo_disputes.toml).
"""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from aftersales.adapters.files.packaged import read_packaged_text
from aftersales.domain.errors import ConfigError
from aftersales.domain.orders import Dispute, ScanStatus, TrackingEvent
from aftersales.domain.shop_events import ScanReport, ShopOrder
from aftersales.ports import CaseRepository
from aftersales.services.desk import record_decision
from aftersales.services.routing import RoutingKit
from aftersales.services.shopify_events import apply_event
from aftersales.wiring import Desk


def seed_demo_disputes(desk: Desk, kit: RoutingKit, now: datetime) -> list[int]:
    """Apply the planted disputes (idempotent: a second run changes nothing); the cases
    they opened or moved to the chargeback route."""
    plan = tomllib.loads(read_packaged_text("demo_disputes.toml"))
    shopify_ids: dict[str, str] = {}
    decisions: list[tuple[int, dict[str, Any], datetime]] = []
    case_ids: list[int] = []
    with desk.uow() as cases:
        for data in plan["order"]:
            shopify_ids[data["number"]] = _apply_order(cases, kit, data, now)
        for data in plan["scan"]:
            scan = _scan(data, now)
            apply_event(cases, kit, ScanReport(shopify_ids[data["order"]], scan), now=now)
        for data in plan["dispute"]:
            dispute = _dispute(data, shopify_ids[data["order"]], now)
            outcome, case_id = apply_event(cases, kit, dispute, now=now, shop="northwind-demo")
            if case_id is not None:
                case_ids.append(case_id)
                if "opened" in outcome and "decision" in data:
                    decisions.append((case_id, data["decision"], dispute.initiated_at or now))
    for case_id, decision, initiated in decisions:
        at = min(now, initiated + timedelta(hours=decision["after_hours"]))
        record_decision(desk.uow, case_id, decision["text"], by=decision["by"], at=at)
    return case_ids


def _apply_order(cases: CaseRepository, kit: RoutingKit, data: dict[str, Any], now: datetime) -> str:
    """The stored demo order as Shopify's orders/updated webhook reports it: with its Admin
    API id (later webhooks name the order by it), payment and tracking number."""
    stored = cases.order(data["number"])
    if stored is None:
        raise ConfigError(f"demo_disputes.toml: order {data['number']} is not in the demo week's orders")
    order = dataclasses.replace(
        stored,
        shopify_id=data["shopify_id"],
        financial_status=data["financial_status"],
        total=Decimal(data["total"]),
        currency=data["currency"],
        tracking_numbers=tuple(data["tracking_numbers"]),
    )
    apply_event(cases, kit, ShopOrder(order, data["email"], data["name"]), now=now)
    return str(data["shopify_id"])


def _scan(data: dict[str, Any], now: datetime) -> TrackingEvent:
    return TrackingEvent(
        event_id=data["id"],
        status=ScanStatus(data["status"]),
        happened_at=_moment(now, data["days_ago"], data["at"]),
        message=data["message"],
        location=data["location"],
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )


def _dispute(data: dict[str, Any], order_shopify_id: str, now: datetime) -> Dispute:
    return Dispute(
        dispute_id=data["id"],
        order_shopify_id=order_shopify_id,
        order_number=data["order"],
        kind=data["kind"],
        reason=data["reason"],
        network_reason_code=data["network_reason_code"],
        status=data["status"],
        amount=Decimal(data["amount"]),
        currency=data["currency"],
        initiated_at=_moment(now, data["initiated_days_ago"], data["initiated_at"]),
        evidence_due_by=now + timedelta(days=data["evidence_due_in_days"]),
    )


def _moment(now: datetime, days_ago: int, clock: str) -> datetime:
    day = (now - timedelta(days=days_ago)).date()
    return min(datetime.combine(day, time.fromisoformat(clock), tzinfo=now.tzinfo), now)
