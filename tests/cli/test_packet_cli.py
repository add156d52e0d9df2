"""`aftersales packet`: JSON, HTML and PDF of a planted dispute, written whole or not at all,
and the demo store's planted "product not received" dispute. Each test has its own data
folder (embedded SQLite). Errors `aftersales.cli.main()` turns into exit code 2 escape
CliRunner as the exception itself."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aftersales.cli import cli
from aftersales.cli.demo_disputes import seed_demo_disputes
from aftersales.domain.errors import InputError
from aftersales.services.packet import PacketNotFound
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk
from support.packet_story import plant_dispute

SEED_ITEMS = {
    "order",
    "payment",
    "tracking",
    "delivery_proof",
    "conversation",
    "photos",
    "decision",
    "policy",
    "timeline",
}


def _run(folder: Path, *args: str) -> Result:
    env = {"AFTERSALES_DATA_DIR": str(folder), "AFTERSALES_POLICY": None, "AFTERSALES_DATABASE_URL": None}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def planted(tmp_path: Path, kit: RoutingKit) -> tuple[Path, int]:
    desk = open_desk(Settings(data_dir=tmp_path, policy_file=None))
    case_id = plant_dispute(desk.uow, kit)
    desk.engine.dispose()
    return tmp_path, case_id


def test_json_to_standard_output_maps_to_shopifys_fields(planted: tuple[Path, int]) -> None:
    folder, case_id = planted
    result = _run(folder, "packet", "#1043")
    assert result.exit_code == 0, result.output
    packet = json.loads(result.stdout)
    assert packet["subject"] == "order #1043"
    assert packet["reason"] == "product_not_received"
    assert {item["part"] for item in packet["checklist"]} >= SEED_ITEMS
    assert "delivery_proof" in packet["missing"]
    assert packet["shopify_evidence"]["customerEmailAddress"] == "ana.silva@example.com"
    assert [d["by"] for d in packet["decisions"]] == ["Lee (operations)"]
    assert [c["id"] for c in packet["cases"]] == [case_id]


def test_html_is_one_escaped_page_without_scripts(planted: tuple[Path, int], tmp_path: Path) -> None:
    folder, case_id = planted
    out = tmp_path / "packet.html"
    result = _run(folder, "packet", f"case:{case_id}", "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<script" not in page.lower()
    assert "Delivery proof" in page
    assert "Memphis, TN" in page
    assert "still missing: Delivery proof" in result.stderr


@pytest.mark.parametrize("to_file", [True, False], ids=["output-file", "stdout"])
def test_pdf_starts_with_the_pdf_signature(planted: tuple[Path, int], tmp_path: Path, to_file: bool) -> None:
    folder, _ = planted
    out = tmp_path / "packet.pdf"
    args = ["packet", "1043", "--format", "pdf"] + (["-o", str(out)] if to_file else [])
    result = _run(folder, *args)
    assert result.exit_code == 0, result.output
    content = out.read_bytes() if to_file else result.stdout_bytes
    assert content.startswith(b"%PDF")
    assert content.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize(
    ("reference", "error", "words"),
    [
        ("#9999", PacketNotFound, "no order #9999"),
        ("case:4242", PacketNotFound, "no case 4242"),
        ("", InputError, ""),
    ],
)
def test_a_reference_to_nothing_says_what_was_not_found(
    planted: tuple[Path, int], reference: str, error: type[Exception], words: str
) -> None:
    folder, _ = planted
    result = _run(folder, "packet", reference)
    assert isinstance(result.exception, error)
    assert words in str(result.exception)


def test_an_unwritable_output_leaves_nothing_behind(planted: tuple[Path, int], tmp_path: Path) -> None:
    folder, _ = planted
    result = _run(folder, "packet", "1043", "-o", str(tmp_path / "missing-folder" / "p.json"))
    assert result.exit_code != 0
    assert not (tmp_path / "missing-folder").exists()


@pytest.mark.slow
def test_the_demo_stores_planted_dispute_marks_what_is_missing(tmp_path: Path) -> None:
    now = "2026-11-27T16:00:00-05:00"
    assert _run(tmp_path, "demo", "--now", now).exit_code == 0
    settings = Settings(data_dir=tmp_path, policy_file=None)
    desk = open_desk(settings)
    moment = datetime.fromisoformat(now)
    first = seed_demo_disputes(desk, build_routing_kit(settings), moment)
    assert seed_demo_disputes(desk, build_routing_kit(settings), moment) == first  # idempotent
    desk.engine.dispose()
    packet = json.loads(_run(tmp_path, "packet", "#1043").stdout)
    assert packet["dispute"]["reason"] == "product_not_received"
    assert packet["dispute"]["evidence_due_by"] == "2026-12-04T21:00:00+00:00"
    states = {item["part"]: item["present"] for item in packet["checklist"]}
    assert set(states) >= SEED_ITEMS
    missing = {part for part, present in states.items() if not present}
    # the parcel never arrived; the demo has no photos, and no policy texts unless the demo
    # adds them; the demo order keeps its shipping address
    assert {"delivery_proof"} <= missing <= {"delivery_proof", "photos", "policy"}
    shipping = next(item for item in packet["checklist"] if item["part"] == "shipping_address")
    assert shipping["detail"] == "Ana Silva, 1820 Division St, Apt 3, Nashville TN 37203, US"
    assert packet["shopify_evidence"]["shippingAddress"] == {
        "firstName": "Ana",
        "lastName": "Silva",
        "company": None,
        "address1": "1820 Division St",
        "address2": "Apt 3",
        "city": "Nashville",
        "provinceCode": "TN",
        "zip": "37203",
        "countryCode": "US",
        "phone": None,
    }
    assert [s["location"] for s in packet["tracking"]][-1] == "Memphis, TN"
    assert packet["decisions"][0]["by"] == "Lee (operations lead)"
