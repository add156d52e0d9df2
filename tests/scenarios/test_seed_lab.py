"""The seed's Routing Lab rows and first-order incidents, end to end through the service."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aftersales.adapters.files.order_json import parse_order
from aftersales.domain.card import card_to_dict
from aftersales.domain.signals import Attachment
from aftersales.services.routing import RoutingKit, build_card

CASES = tomllib.loads((Path(__file__).parent / "routing" / "seed_lab.toml").read_text())["case"]
NOW = datetime.fromisoformat("2026-11-24T10:00:00-05:00")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_seed_case(case: dict[str, Any], kit: RoutingKit) -> None:
    order = parse_order(case["order"]) if "order" in case else None
    attachments = [Attachment(*a.split(":", 1)) for a in case.get("attachments", [])]

    card = card_to_dict(build_card(kit, case["text"], now=NOW, order=order, attachments=attachments))

    assert card["route"] == case["route"]
    present = " | ".join(i["item"] for i in card["evidence"]["present"])
    missing = " | ".join(card["evidence"]["missing"])
    for fragment in case.get("evidence_present", []):
        assert fragment.lower() in present.lower(), f"{fragment!r} not in present: {present}"
    for fragment in case.get("evidence_missing", []):
        assert fragment.lower() in missing.lower(), f"{fragment!r} not in missing: {missing}"
    suggested = " | ".join(i["item"] for i in card["evidence"]["suggested"])
    for fragment in case.get("evidence_suggested", []):
        assert fragment.lower() in suggested.lower(), f"{fragment!r} not suggested: {suggested}"
    for target in case.get("write_back", []):
        assert target in card["write_back"]
    assert card["decision"]["segment"] == case["segment"]
    assert case["stop_line"].lower() in card["stop_line"].lower()
    assert case.get("risky_route", "").lower() in card["risky_route"].lower()
    assert card["escalate"] is case.get("escalate", False)
    assert card["reply_check"]["ok"], card["reply_check"]["problems"]
    for flag in case.get("flags", []):
        assert card["flags"][flag] is True
    for fragment in case.get("reply_mentions", []):
        assert fragment in card["first_reply"]
    if "escalation_due" in case:
        assert card["sla"]["escalation_due"] == case["escalation_due"][:16] + case["escalation_due"][19:]
    if "pause_automation" in case:
        assert card["pause_automation"] is case["pause_automation"]
