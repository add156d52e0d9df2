"""Exports for marketing and review tools, from a real desk: the suppression list holds the
buyers on hold, the property feed every buyer with a case (a closed one shows false), the
Judge.me blocklist the held addresses; the files are in the shapes the tools import. Runs on
SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import Engine

from aftersales.adapters.db.holds import holds_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.review_requests import review_requests_unit_of_work
from aftersales.adapters.reports.marketing_exports import (
    KLAVIYO_JOB_LIMIT,
    judgeme_csv,
    judgeme_json,
    klaviyo_jobs,
    open_cases_csv,
    open_cases_json,
    review_requests_csv,
    suppression_csv,
)
from aftersales.domain.cases import CaseStatus
from aftersales.domain.orders import OrderFacts
from aftersales.domain.review_requests import BuyerState
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.marketing_exports import (
    judgeme_blocklist,
    open_case_properties,
    released_requests,
    suppression_list,
)
from aftersales.services.review_requests import schedule_and_send
from aftersales.services.routing import RoutingKit
from support.messages import NY, at, case_of, message

WRONG_ITEM = "I ordered the black tumbler but received a white one instead, wrong item. Order #1043."
DAMAGED = "The tumbler arrived dented, order #2001."
QUESTION = "Do you sell lids for the 20oz tumbler?"


@pytest.fixture
def desk(uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit) -> Engine:
    """ana: a wrong-item case (held); bo: a question (open, not held) and a review request
    sent; cy: a damaged case, resolved (no longer held)."""
    for sender, text in (("ana@example.com", WRONG_ITEM), ("bo@example.com", QUESTION)):
        msg = message(text, sender=sender, sent=at(24, 10))
        take_in(uow, kit, Incoming(msg, "test"), now=msg.sent_at)
    damaged = message(DAMAGED, sender="cy@example.com", sent=at(24, 11))
    cy_case = case_of(take_in(uow, kit, Incoming(damaged, "test"), now=damaged.sent_at))
    change_status(uow, kit, cy_case, CaseStatus.RESOLVED, by="Maya", at=at(25, 9))
    with uow() as cases:
        customer = cases.customer_id("bo@example.com", "Bo", at(1, 9))
        cases.save_order(OrderFacts(number="1044", delivered_at=at(2, 15)), customer, at(2, 15))
    schedule_and_send(review_requests_unit_of_work(engine), usage_days=14, now=at(25, 10))
    return engine


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_suppression_list_holds_the_buyers_on_hold(desk: Engine) -> None:
    rows = suppression_list(holds_unit_of_work(desk))

    assert suppression_csv(rows) == (
        "email,reason,since\nana@example.com,wrong_item: wrong_item_collect_proof,2026-11-24T15:00:00Z\n"
    )


def test_the_property_feed_lists_every_buyer_and_turns_false_after_resolution(desk: Engine) -> None:
    buyers = open_case_properties(holds_unit_of_work(desk))

    assert _csv_rows(open_cases_csv(buyers)) == [
        {
            "email": "ana@example.com",
            "has_open_case": "true",
            "open_cases": "1",
            "on_hold": "true",
            "hold_reason": "wrong_item: wrong_item_collect_proof",
            "updated_at": "2026-11-24T15:00:00Z",
            "review_request_order": "",
            "review_requested_at": "",
        },
        {
            "email": "bo@example.com",
            "has_open_case": "true",
            "open_cases": "1",
            "on_hold": "false",
            "hold_reason": "",
            "updated_at": "2026-11-25T15:00:00Z",
            "review_request_order": "1044",
            "review_requested_at": "2026-11-25T15:00:00Z",
        },
        {
            "email": "cy@example.com",
            "has_open_case": "false",
            "open_cases": "0",
            "on_hold": "false",
            "hold_reason": "",
            "updated_at": "2026-11-25T14:00:00Z",
            "review_request_order": "",
            "review_requested_at": "",
        },
    ]


def test_the_json_feed_is_a_klaviyo_bulk_profile_import_job_without_nulls(desk: Engine) -> None:
    body = open_cases_json(open_case_properties(holds_unit_of_work(desk)))

    assert isinstance(body, dict)
    assert body["data"]["type"] == "profile-bulk-import-job"
    profiles = body["data"]["attributes"]["profiles"]["data"]
    assert [p["type"] for p in profiles] == ["profile"] * 3
    first = profiles[0]["attributes"]
    assert first == {
        "email": "ana@example.com",
        "properties": {
            "has_open_case": True,
            "open_cases": 1,
            "on_hold": True,
            "hold_reason": "wrong_item: wrong_item_collect_proof",
            "updated_at": "2026-11-24T15:00:00Z",
            "review_request_order": "",
            "review_requested_at": "",
        },
    }
    assert "null" not in json.dumps(body)  # Klaviyo's bulk import cannot clear with null


def test_the_judgeme_blocklist_is_the_held_addresses(desk: Engine) -> None:
    emails = judgeme_blocklist(holds_unit_of_work(desk))

    assert judgeme_csv(emails) == "email\nana@example.com\n"
    assert judgeme_json(emails) == {"emails": ["ana@example.com"], "field_value": "ana@example.com"}


def test_the_review_request_export_lists_the_requests_handed_over(desk: Engine) -> None:
    rows = released_requests(review_requests_unit_of_work(desk, writes=False))

    [row] = _csv_rows(review_requests_csv(rows))
    assert (row["email"], row["order_number"], row["sent_at"], row["deferred_days"]) == (
        "bo@example.com",
        "1044",
        "2026-11-25T15:00:00Z",
        "0.0",
    )
    assert row["reasons"].startswith("scheduled: delivered 2026-11-02T20:00:00+00:00 + 14 days | sent: due,")


def test_a_feed_longer_than_one_klaviyo_job_is_split() -> None:
    buyer = BuyerState(
        email="a@example.com", open_cases=0, holds=(), updated_at=datetime(2026, 11, 1, tzinfo=NY)
    )
    jobs = klaviyo_jobs([buyer] * (KLAVIYO_JOB_LIMIT + 1))

    assert [len(job["data"]["attributes"]["profiles"]["data"]) for job in jobs] == [KLAVIYO_JOB_LIMIT, 1]
    assert len(klaviyo_jobs([])) == 1
