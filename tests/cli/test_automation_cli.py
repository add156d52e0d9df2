"""`aftersales holds`, `aftersales review-requests run` and `aftersales export ...` on an
embedded SQLite data folder: a buyer with a wrong-item case is listed on hold, their review
request is deferred with the reason and the other buyer's sent; a second run does nothing;
the exports hold the buyer on hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aftersales.adapters.mail.parse import dedupe_key
from aftersales.cli.automation import export, holds, review_requests
from aftersales.domain.errors import InputError
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.domain.orders import OrderFacts
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import open_desk


def message(text: str, *, sent: datetime) -> InboundMessage:
    """ana's e-mail as the parser would hand it over."""
    message_id = f"{sent.timestamp():.0f}@cust.example"
    return InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, "ana@example.com", sent.isoformat(), text),
        channel=Channel.EMAIL,
        from_address="ana@example.com",
        from_name="Ana",
        to_addresses=("support@northwind.example",),
        subject="",
        sent_at=sent,
        body=text,
        full_body=text,
        html="",
    )


WRONG_ITEM = "I ordered the black tumbler but received a white one instead, wrong item. Order #1043."


@pytest.fixture
def settings(tmp_path: Path, kit: RoutingKit) -> Settings:
    """ana (order 1043) has an open wrong-item case; both orders were delivered 20 days ago."""
    configured = Settings(data_dir=tmp_path, policy_file=None)
    uow = open_desk(configured).uow
    delivered = datetime.now(UTC) - timedelta(days=20)
    with uow() as cases:
        for number, email in (("1043", "ana@example.com"), ("1044", "bo@example.com")):
            customer = cases.customer_id(email, email.split("@")[0].title(), delivered)
            cases.save_order(OrderFacts(number=number, delivered_at=delivered), customer, delivered)
    complaint = message(WRONG_ITEM, sent=datetime.now(UTC) - timedelta(days=2))
    take_in(uow, kit, Incoming(complaint, "test"), now=complaint.sent_at)
    return configured


def _invoke(command: object, settings: Settings, *args: str) -> Result:
    result = CliRunner().invoke(command, list(args), obj=settings)  # type: ignore[arg-type]
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_holds_lists_the_buyer_and_the_reason(settings: Settings) -> None:
    [buyer] = json.loads(_invoke(holds, settings, "--json").stdout)

    assert (buyer["email"], buyer["reason"], buyer["open_cases"]) == (
        "ana@example.com",
        "wrong_item: wrong_item_collect_proof",
        1,
    )
    assert [h["case_id"] for h in buyer["holds"]] == [1]
    text = _invoke(holds, settings).stdout
    assert text.startswith("ana@example.com  since ")
    assert text.endswith("wrong_item: wrong_item_collect_proof (case 1)\n")


def test_a_run_defers_the_held_buyer_sends_the_other_and_a_rerun_does_nothing(settings: Settings) -> None:
    first = json.loads(_invoke(review_requests, settings, "run", "--json").stdout)
    again = json.loads(_invoke(review_requests, settings, "run", "--json").stdout)

    assert {k: first[k] for k in ("scheduled", "sent", "deferred", "still_deferred")} == {
        "scheduled": 2,
        "sent": 1,
        "deferred": 1,
        "still_deferred": 0,
    }
    actions = [(s["order_number"], s["action"]) for s in first["steps"]]
    assert actions == [("1043", "scheduled"), ("1044", "scheduled"), ("1043", "deferred"), ("1044", "sent")]
    assert first["steps"][2]["reason"].startswith("on hold: wrong_item: wrong_item_collect_proof (case 1, ")
    assert (again["scheduled"], again["sent"], again["deferred"], again["still_deferred"]) == (0, 0, 0, 1)


def test_since_leaves_out_older_deliveries(settings: Settings) -> None:
    since = (datetime.now(UTC) - timedelta(days=5)).strftime("%Y-%m-%d")

    result = json.loads(_invoke(review_requests, settings, "run", "--json", "--since", since).stdout)

    assert (result["scheduled"], result["steps"]) == (0, [])


def test_the_exports_hold_the_buyer_on_hold(settings: Settings, tmp_path: Path) -> None:
    _invoke(review_requests, settings, "run")
    target = tmp_path / "exports" / "suppression.csv"

    written = _invoke(export, settings, "suppression", "--output", str(target))
    feed = json.loads(_invoke(export, settings, "open-cases", "--format", "json").stdout)
    blocklist = _invoke(export, settings, "judgeme-blocklist").stdout
    requests = _invoke(export, settings, "review-requests", "--format", "json").stdout

    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "email,reason,since"
    assert lines[1].startswith("ana@example.com,wrong_item: wrong_item_collect_proof,")
    assert len(lines) == 2
    assert written.stdout == ""
    profiles = feed["data"]["attributes"]["profiles"]["data"]
    assert [(p["attributes"]["email"], p["attributes"]["properties"]["on_hold"]) for p in profiles] == [
        ("ana@example.com", True),
        ("bo@example.com", False),
    ]
    assert profiles[1]["attributes"]["properties"]["review_request_order"] == "1044"
    assert blocklist == "email\nana@example.com\n"
    assert [r["order_number"] for r in json.loads(requests)] == ["1044"]


def test_an_export_to_a_folder_that_cannot_be_written_is_an_input_error(
    settings: Settings, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")

    result = CliRunner().invoke(export, ["suppression", "--output", str(blocker / "out.csv")], obj=settings)

    assert isinstance(result.exception, InputError)
    assert f"cannot write {blocker / 'out.csv'}" in str(result.exception)
