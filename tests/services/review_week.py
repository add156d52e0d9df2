"""A planted week for the weekly review tests: the demo store's week in case rows (three
wrong-colour cases on TMB-20-BLK, two stalled UPS scans, and one case of everything else)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from aftersales.adapters.db import schema
from support.messages import NY

MONDAY = datetime(2026, 11, 23, 9, tzinfo=NY)
AFTER_THE_WEEK = datetime(2026, 11, 30, 9, tzinfo=NY)

# (day of the week, route, sku, variant, carrier, reason, first-response state)
PLANTED: list[tuple[int, str, str, str, str, str, str]] = [
    (0, "pre_purchase", "", "", "", "answer", "met"),
    (0, "cancel_or_change", "TMB-30-GRN", "Green", "", "act_before_fulfilment", "breached"),
    (1, "shipping_delay", "TMB-20-BLK", "Black", "UPS", "inside_promise_window", "met"),
    (1, "shipping_delay", "MUG-12-WHT", "White", "UPS", "inside_promise_window", "breached"),
    (2, "damaged_item", "TMB-20-SLV", "Silver", "", "damaged_store_fault", "on_track"),
    (2, "wrong_item", "TMB-20-BLK", "Black", "", "wrong_item_collect_proof", "met"),
    (3, "wrong_item", "TMB-20-BLK", "Black", "", "wrong_item_collect_proof", "met"),
    (3, "chargeback_risk", "TMB-30-NVY", "Navy", "UPS", "same_day_lead_review", "breached"),
    (4, "refund_return", "TMB-20-BLK", "Black", "", "collect_proof", "paused"),
    (4, "wrong_item", "TMB-20-BLK", "Black", "", "wrong_item_collect_proof", "at_risk"),
    (5, "review", "", "", "", "pause_and_follow_up", "stopped"),
    (6, "other", "", "", "", "answer", "on_track"),
]
WRONG_COLOUR_KEY = "repeat|wrong_item|sku|TMB-20-BLK"


def add_cases(
    engine: Engine, rows: list[tuple[int, str, str, str, str, str, str]], start: datetime = MONDAY
) -> list[int]:
    """Case rows as intake leaves them (the review reads only the cases table)."""
    ids = []
    with engine.begin() as connection:
        for day, route, sku, variant, carrier, reason, state in rows:
            opened = start + timedelta(days=day)
            values: dict[str, Any] = {
                "route": route,
                "status": "open",
                "lead_role": "operations",
                "opened_at": opened,
                "updated_at": opened,
                "clocks": [
                    {"name": "first_response", "state": state},
                    {"name": "escalation", "state": "stopped"},
                ],
                "sku": sku,
                "variant": variant,
                "carrier": carrier,
                "reason": reason,
            }
            ids.append(
                int(
                    connection.execute(
                        insert(schema.cases).values(values).returning(schema.cases.c.id)
                    ).scalar_one()
                )
            )
    return ids
