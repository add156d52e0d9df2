"""The command line through `click.testing.CliRunner`, settings read from the environment.

Errors that `aftersales.cli.main()` maps to exit code 2 (InputError and friends) escape
CliRunner as exceptions, so a few of them also run the real console script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aftersales.adapters.policy.file import default_policy_text
from aftersales.cli import cli
from aftersales.domain.errors import InputError

NOW = "2026-11-24T10:00:00-05:00"
SCRIPT = Path(sys.executable).with_name("aftersales")
Env = dict[str, str | None]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for the read-only commands, so the cue index is built once."""
    return tmp_path_factory.mktemp("cli-data")


@pytest.fixture
def env(data_dir: Path) -> Env:
    return {"AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_POLICY": None}


def invoke(env: Env, *args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, env=env)


def run_script(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    environ |= {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=environ, timeout=30, check=False
    )


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


LOST_ORDER = {
    "number": "1043",
    "fulfilled_at": "2026-11-16T15:00:00-05:00",
    "last_scan_at": "2026-11-20T09:00:00-05:00",
    "last_scan_status": "lost",
    "destination": "US",
    "items": [{"sku": "TMB-20-BLK", "title": "20oz tumbler", "price": "34.00"}],
}

# --------------------------------------------------------------------------- route TEXT


def test_route_prints_a_readable_card(env: Env) -> None:
    result = invoke(env, "route", "--now", NOW, "The mug arrived in pieces, order #1043")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ROUTE  damaged_item   confidence ")
    # typed, not a stored order: suggested (evidence comes from facts, not words)
    assert (
        "  [?] Order number  (the message names 'order #1043': no stored order of theirs by that number)"
        in lines
    )
    for heading in ("EVIDENCE", "DECISION", "CLOCKS (business hours)"):
        assert heading in lines
    assert any(line.startswith("FIRST REPLY") for line in lines)
    assert "  first response by  Wednesday 25 November, 11:00 EST" in lines
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Mi pedido todavía no ha llegado después de dos semanas.", "written in Spanish ('es')"),
        ("hmm ok", "no route's words are clear enough"),
    ],
)
def test_an_unsure_routing_says_check_the_route_and_why(env: Env, text: str, reason: str) -> None:
    result = invoke(env, "route", "--now", NOW, text)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert " confidence Low " in lines[0]
    assert any(line.startswith("check the route") and reason in line for line in lines), lines[:4]


def test_a_sure_routing_has_no_check_line(env: Env) -> None:
    result = invoke(env, "route", "--now", NOW, "The mug arrived in pieces, order #1043")

    assert not any(line.startswith("check the route") for line in result.stdout.splitlines())


REQUIRED_KEYS = {
    "route",
    "secondary_routes",
    "confidence",
    "confidence_label",
    "flags",
    "signals",
    "evidence",
    "risky_route",
    "correct_route",
    "first_reply",
    "reply_check",
    "escalation_trigger",
    "lead",
    "write_back",
    "sla",
    "resolution_path",
    "stop_line",
    "trace",
}


def test_route_json_has_every_key_the_card_promises(env: Env) -> None:
    text = "I want my money back for order #1043, the lid was cracked, photo attached"

    result = invoke(env, "route", "--json", "--now", NOW, text)

    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert set(card) >= REQUIRED_KEYS
    assert card["route"] == "damaged_item"
    assert card["secondary_routes"] == ["refund_return"]
    assert card["confidence_label"] in ("High", "Medium", "Low")
    assert card["flags"] == {
        "angry": False,
        "asks_refund": True,
        "mentions_photo": True,
        "threatens_dispute": False,
        "asks_human": False,
    }
    assert set(card["evidence"]) == {"required", "present", "missing", "suggested"}
    assert len(card["evidence"]["required"]) == len(card["evidence"]["present"]) + len(
        card["evidence"]["missing"]
    )
    # "photo attached" with no image, and a typed order number: suggested, still missing
    assert [s["item"] for s in card["evidence"]["suggested"]] == ["Order number", "Damage photo"]
    assert {"Order number", "Damage photo"} <= set(card["evidence"]["missing"])
    assert card["evidence"]["present"] == []
    assert set(card["sla"]) >= {"first_response_due", "next_update_due", "escalation_due"}
    assert card["sla"]["first_response_due"] == "2026-11-25T11:00-05:00"
    assert set(card["reply_check"]) == {"ok", "problems"}
    assert card["lead"] == {
        "role": "supply_chain",
        "name": "Tomás Ortega",
        "email": "tomas@northwind.example",
    }
    assert isinstance(card["write_back"], list)
    assert card["write_back"]
    for match in card["trace"]["matches"]:
        if match["start"] >= 0:
            assert text[match["start"] : match["end"]] == match["quote"]
    for signal in card["signals"]:
        if "start" in signal:
            assert text[signal["start"] : signal["end"]] == signal["text"]


@pytest.mark.parametrize("args", [["route", "--json", "-"], ["route", "--json"]], ids=["dash", "no TEXT"])
def test_route_reads_the_message_from_stdin(env: Env, args: list[str]) -> None:
    result = invoke(env, *args, "--now", NOW, stdin="You sent me a red one but I picked green at checkout.\n")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["route"] == "wrong_item"


def test_stdin_that_is_not_utf8_is_refused_naming_the_byte(env: Env) -> None:
    result = invoke(env, "route", "-", "--now", NOW, stdin=b"where is it \xff\xfe")

    assert isinstance(result.exception, InputError)
    assert str(result.exception) == "stdin is not UTF-8 text (byte 12: 0xff)"
    assert result.stdout == ""


def test_an_order_file_changes_the_decision(env: Env, tmp_path: Path) -> None:
    text = "Where is my parcel? Nothing has happened since last week."
    order_file = write_json(tmp_path / "order.json", LOST_ORDER)

    without = json.loads(invoke(env, "route", "--json", "--now", NOW, text).stdout)
    with_order = json.loads(
        invoke(env, "route", "--json", "--now", NOW, "--order", str(order_file), text).stdout
    )

    assert (without["route"], with_order["route"]) == ("shipping_delay", "shipping_delay")
    assert (without["decision"]["segment"], without["escalate"]) == ("collect_order_facts", False)
    assert (with_order["decision"]["segment"], with_order["escalate"]) == ("loss_confirmed", True)
    assert with_order["escalation_reason"] == "loss confirmed by the carrier"
    assert with_order["decision"]["facts"][0] == "last scan 2026-11-20 09:00 (4 days ago): lost"


def test_an_order_with_an_unknown_status_names_the_file_and_the_value(env: Env, tmp_path: Path) -> None:
    order_file = write_json(tmp_path / "order.json", {"number": "1043", "last_scan_status": "teleported"})

    result = invoke(env, "route", "--order", str(order_file), "--now", NOW, "where is it")

    assert isinstance(result.exception, InputError)
    assert str(result.exception).startswith(
        f"{order_file}: last_scan_status 'teleported' is not one of: label_purchased, "
    )
    assert result.stdout == ""


def test_notes_print_the_six_headings(env: Env) -> None:
    result = invoke(env, "route", "--notes", "--now", NOW, "The mug arrived in pieces, order #1043")

    assert result.exit_code == 0, result.output
    notes = result.stdout[result.stdout.index("## Support notes: ") :]
    headings = [line.split(":**")[0] for line in notes.splitlines() if line.startswith("- **")]
    assert headings == [
        "- **Current pressure",
        "- **First evidence",
        "- **This-week action",
        "- **Stop action",
        "- **Review window",
        "- **Next route",
    ]
    assert ".." not in notes


def test_notes_in_json_are_one_more_key(env: Env) -> None:
    result = invoke(env, "route", "--json", "--notes", "--now", NOW, "The mug arrived in pieces")

    card = json.loads(result.stdout)
    assert card["notes"].startswith("## Support notes: Damaged item\n")


# --------------------------------------------------------------------------- --batch


def test_batch_jsonl_routes_the_good_lines_and_reports_the_bad_ones(env: Env, tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "m-1", "text": "The mug arrived in pieces."}),
        '{"id": "m-2", "text": "where is my parcel',
        json.dumps({"id": "m-3", "text": "   "}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "m-5", "text": "Nothing since last week, order #1043", "order": LOST_ORDER}),
        json.dumps({"text": 42}),
        json.dumps({"id": "m-7", "text": "Can you unsubscribe me from your newsletter?"}),
    ]
    batch = tmp_path / "messages.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = invoke(env, "route", "--batch", str(batch), "--now", NOW)

    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["m-1", 2, "m-3", 4, "m-5", 6, "m-7"]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6, 7]
    assert [o.get("route") for o in out] == [
        "damaged_item",
        None,
        None,
        None,
        "shipping_delay",
        None,
        "other",
    ]
    errors = {o["line"]: o for o in out if "error" in o}
    assert {n: set(o) for n, o in errors.items()} == {n: {"id", "line", "error"} for n in (2, 3, 4, 6)}
    assert errors[2]["error"] == "line 2: not valid JSON (Invalid control character at)"
    assert errors[3]["error"] == "line 3: the message is empty"
    assert errors[4]["error"] == 'line 4: expected an object with "id" and "text"'
    assert errors[6]["error"] == 'line 6: "text" must be a string'
    assert out[4]["decision"]["segment"] == "loss_confirmed"
    assert result.stderr == f"3 routed, 4 failed: {batch}\n"


def test_batch_csv_routes_each_row_with_its_id(env: Env, tmp_path: Path) -> None:
    batch = tmp_path / "messages.csv"
    batch.write_text(
        'id,text\nc-1,"The lid cracked, and the box was soaked"\nc-2,Please cancel my order\nc-3,\n',
        encoding="utf-8",
    )

    result = invoke(env, "route", "--batch", str(batch), "--now", NOW)

    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["line"], o.get("route"), o.get("error")) for o in out] == [
        ("c-1", 2, "damaged_item", None),
        ("c-2", 3, "cancel_or_change", None),
        ("c-3", 4, None, "line 4: the message is empty"),
    ]
    assert result.stderr == f"2 routed, 1 failed: {batch}\n"


def test_a_csv_without_a_text_column_is_refused_before_any_output(env: Env, tmp_path: Path) -> None:
    batch = tmp_path / "messages.csv"
    batch.write_text("id,body\n1,hello\n", encoding="utf-8")

    result = invoke(env, "route", "--batch", str(batch), "--now", NOW)

    assert isinstance(result.exception, InputError)
    assert str(result.exception) == f"{batch}: the CSV needs a header with columns id,text"
    assert result.stdout == ""


# --------------------------------------------------------------------------- policy


def test_policy_init_writes_a_file_policy_check_accepts(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"

    init = invoke(env, "policy", "init", str(path))
    check = invoke(env, "policy", "check", str(path))

    assert init.exit_code == 0, init.output
    assert path.read_text(encoding="utf-8") == default_policy_text()
    assert check.exit_code == 0, check.output
    assert check.stdout == f"{path}: ok. Northwind Tumblers, America/New_York, holidays US/NY; 10 routes.\n"


def test_policy_init_does_not_overwrite_without_force(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("mine", encoding="utf-8")

    result = invoke(env, "policy", "init", str(path))

    assert result.exit_code == 1
    assert f"{path} exists; pass --force to overwrite it" in result.stderr
    assert path.read_text(encoding="utf-8") == "mine"


def _broken_policy(tmp_path: Path) -> tuple[Path, int]:
    lines = default_policy_text().splitlines()
    (index,) = [n for n, line in enumerate(lines) if line.startswith("window_days = ")]
    lines[index] = "window_days = -3"
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, index + 1


def test_policy_check_on_a_broken_file_exits_2_naming_the_line_and_key(env: Env, tmp_path: Path) -> None:
    path, line = _broken_policy(tmp_path)

    result = invoke(env, "policy", "check", str(path))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:{line}: returns.window_days: must be a whole number of days, 0 or more, got -3",
        f"{path}: 1 problem(s); the file was not used.",
    ]


def test_policy_check_json_lists_the_problem(env: Env, tmp_path: Path) -> None:
    path, line = _broken_policy(tmp_path)

    result = invoke(env, "policy", "check", "--json", str(path))

    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "ok": False,
        "file": str(path),
        "problems": [
            {
                "line": line,
                "key": "returns.window_days",
                "message": "must be a whole number of days, 0 or more, got -3",
            }
        ],
    }


# --------------------------------------------------------------------------- train

LABELLED = [
    ("Will the bamboo lid fit the 20oz cup?", "pre_purchase"),
    ("Is the steel food grade before I order?", "pre_purchase"),
    ("How heavy is the large flask?", "pre_purchase"),
    ("Do you deliver to Malta?", "pre_purchase"),
    ("Stop my order please I found it cheaper", "cancel_or_change"),
    ("Change my parcel to the pickup point on Elm Road", "cancel_or_change"),
    ("Swap the colour on my order to sand before dispatch", "cancel_or_change"),
    ("Remove one mug from yesterday's order", "cancel_or_change"),
    ("Parcel stuck at the depot since Tuesday", "shipping_delay"),
    ("No movement on the tracking page for a week", "shipping_delay"),
    ("Still waiting on my box from the 3rd", "shipping_delay"),
    ("The carrier keeps saying out for delivery but nothing comes", "shipping_delay"),
    ("Money back for the lamp please", "refund_return"),
    ("Sending the rug back, how do I get a label", "refund_return"),
    ("Refund status for my returned boots?", "refund_return"),
    ("Want to return the unused kettle", "refund_return"),
    ("Flask came with a hole in the side", "damaged_item"),
    ("Lid hinge broke on arrival", "damaged_item"),
    ("The print is smeared and torn", "damaged_item"),
    ("Mug cracked in transit", "damaged_item"),
    ("Got the blue cap not the black one", "wrong_item"),
    ("Package had a teapot I never ordered", "wrong_item"),
    ("Received size 8 when I chose 10", "wrong_item"),
    ("Two lids and no cup in my box", "wrong_item"),
    ("My bank is reversing this purchase", "chargeback_risk"),
    ("Filing a claim with Amex today", "chargeback_risk"),
    ("Strange debit from your store on my card", "chargeback_risk"),
    ("I will chargeback if I hear nothing", "chargeback_risk"),
    ("One star. Poor quality", "review"),
    ("Posting about this on Instagram tonight", "review"),
    ("My review will warn others", "review"),
    ("Left feedback on the marketplace", "review"),
    ("Same tumbler again for my dad please", "repeat_purchase"),
    ("When is the olive flask back?", "repeat_purchase"),
    ("Buying two more like last time", "repeat_purchase"),
    ("Restock alert for the sand lids?", "repeat_purchase"),
    ("Do you sponsor local teams", "other"),
    ("Invoice for my company accounts", "other"),
    ("Who designs your logos", "other"),
    ("Job application attached", "other"),
]


def _labelled_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    body = "".join(f'"{text}",{route}\n' for text, route in rows)
    path.write_text("text,route\n" + body, encoding="utf-8")
    return path


def test_train_reports_accuracy_and_saves_the_model_in_the_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    csv_file = _labelled_csv(tmp_path / "labelled.csv", LABELLED)
    env: Env = {"AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_POLICY": None}

    result = invoke(env, "train", "--json", str(csv_file))

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["examples"] == 40
    assert report["per_route"] == dict.fromkeys(
        [route for _, route in LABELLED[::4]],
        4,
    )
    assert report["folds"] == 5
    assert 0.0 <= report["accuracy_before"] <= 1.0
    assert 0.0 <= report["accuracy_after_cross_validated"] <= 1.0
    model_file = data_dir / "router-model.json"
    assert report["saved_to"] == str(model_file)
    assert json.loads(model_file.read_text(encoding="utf-8"))

    # the saved model is used from then on
    routed = invoke(env, "route", "--json", "--now", NOW, "Mug cracked in transit")
    assert routed.exit_code == 0, routed.output
    assert any(m["reason"] == "model" for m in json.loads(routed.stdout)["trace"]["matches"])


def test_train_text_report_names_before_and_after(tmp_path: Path) -> None:
    csv_file = _labelled_csv(tmp_path / "labelled.csv", LABELLED)
    env: Env = {"AFTERSALES_DATA_DIR": str(tmp_path / "data"), "AFTERSALES_POLICY": None}

    result = invoke(env, "train", "--dry-run", str(csv_file))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("40 labelled messages (pre_purchase 4, cancel_or_change 4, ")
    assert lines[1].startswith("accuracy before: ")
    assert lines[1].endswith("% (the current router)")
    assert lines[2].startswith("accuracy after:  ")
    assert lines[2].endswith("% (5-fold cross-validated: each message routed by a model trained without it)")
    assert lines[3] == "(dry run: nothing saved)"
    # the dry run saved no model; only the rebuildable cache may be there
    assert not (tmp_path / "data" / "router-model.json").exists()
    assert {p.name for p in (tmp_path / "data").iterdir()} <= {"cache"}


# --------------------------------------------------------------------------- demo

DEMO_ROUTES = [
    "shipping_delay",
    "damaged_item",
    "wrong_item",
    "chargeback_risk",
    "shipping_delay",
    "refund_return",
    "review",
]


def test_demo_lab_json_prints_the_seven_seed_cards(env: Env) -> None:
    result = invoke(env, "demo", "--lab", "--json", "--now", NOW)

    assert result.exit_code == 0, result.output
    cards = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["route"] for c in cards] == DEMO_ROUTES
    assert all(c["reply_check"]["ok"] for c in cards), [c["reply_check"] for c in cards]
    assert [c["title"][:6] for c in cards] == ["Lab 1:", "Lab 2:", "Lab 3:", "Lab 4:"] + ["First "] * 3


def test_a_now_without_an_offset_is_a_usage_error(env: Env) -> None:
    result = invoke(env, "demo", "--now", "2026-11-24T10:00:00")

    assert result.exit_code == 2
    assert "needs a UTC offset" in result.stderr
    assert result.stdout == ""


# --------------------------------------------------------------------------- exit codes via main()


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.is_file()


def test_script_malformed_order_file_exits_2_naming_the_file_and_problem(env: Env, tmp_path: Path) -> None:
    order_file = tmp_path / "order.json"
    order_file.write_text('{"number": "1043",\n', encoding="utf-8")

    done = run_script(env, "route", "--order", str(order_file), "--now", NOW, "where is my parcel")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: {order_file}: not valid JSON: Expecting property name enclosed in double quotes "
        "(line 2, column 1)\n"
    )


def test_script_empty_message_exits_2(env: Env) -> None:
    done = run_script(env, "route", "   ")

    assert (done.returncode, done.stdout, done.stderr) == (2, "", "error: the message is empty\n")


def test_script_broken_policy_file_exits_2_under_one_heading(env: Env, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        default_policy_text().replace('time_zone = "', 'time_zone = "Mars/', 1), encoding="utf-8"
    )

    done = run_script({**env, "AFTERSALES_POLICY": str(policy)}, "route", "--now", NOW, "where is my parcel")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: the policy file cannot be used:\n{policy}:")
    assert "Mars/" in done.stderr


def test_script_train_with_an_unknown_route_exits_2_naming_the_line(tmp_path: Path) -> None:
    csv_file = _labelled_csv(tmp_path / "labelled.csv", [*LABELLED[:3], ("Where is my hat", "teleport")])
    env: Env = {"AFTERSALES_DATA_DIR": str(tmp_path / "data")}

    done = run_script(env, "train", str(csv_file))

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {csv_file}:5: unknown route 'teleport'; allowed: pre_purchase, ")
    assert not (tmp_path / "data" / "router-model.json").exists()


def test_demo_fills_an_empty_desk_once_and_prints_the_queue(env: Env) -> None:
    first = invoke(env, "demo", "--now", NOW)
    again = invoke(env, "demo", "--now", NOW)

    assert first.exit_code == 0, first.output
    assert "16 cases opened, 1 updated" in first.stdout
    assert "chargeback_risk" in first.stdout
    assert again.exit_code == 0, again.output
    assert "already has cases" in again.stdout


# --------------------------------------------------------------------------- a pasted reply
# A customer's answer pasted with the store's own mail quoted below it: read as intake reads
# it, by what the customer wrote (the quote speaks of a refund; the customer of a thank-you).
PASTED_REPLY = (
    "Lovely, thank you, all sorted now.\n\n"
    "On Wed, 22 Nov 2026 at 10:02, Harbor Tea Co. <hello@harbortea.example> wrote:\n"
    "> Hi Ana,\n"
    "> Your refund of $45.00 for order #5598 has been processed.\n"
)


def test_route_reads_what_the_sender_wrote_above_a_quoted_reply(env: Env) -> None:
    card = json.loads(invoke(env, "route", "--json", PASTED_REPLY).stdout)
    assert card["route"] != "refund_return", card["trace"]["decided_by"]
    quoted = json.loads(
        invoke(env, "route", "--json", "Your refund for order #5598 has been processed.").stdout
    )
    assert quoted["route"] == "refund_return"


def test_eval_routing_reads_what_the_sender_wrote(env: Env, tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(json.dumps({"text": PASTED_REPLY, "route": "other"}) + "\n", encoding="utf-8")
    data = json.loads(invoke(env, "eval", "routing", str(labelled), "--json").stdout)
    assert data["routes"].get("refund_return", {"predicted": 0})["predicted"] == 0
