"""The case desk from the command line: intake, cases, case, reply, note, status, sla, db.

Each test gets its own data folder (embedded SQLite), so it needs no PostgreSQL. Errors that
`aftersales.cli.main()` turns into "error: ..." and exit code 2 escape CliRunner as the
exception itself, so those tests check ``result.exception``.

`intake`, `note` and `status` have no --now/--at: they run at the real time. The messages are
dated Tuesday 24 November 2026 (in the past), and where clock values matter a test pins them
with `sla tick --now`, which recomputes every open case's clocks at that moment.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aftersales.adapters.db.migrate import head_revision
from aftersales.cli import cli
from aftersales.domain.cases import CaseNotFound, InvalidTransition
from aftersales.services.assignment import UnknownAssignee
from aftersales.services.replies import ReplyRefused

Env = dict[str, str | None]
TUESDAY_NOON = "2026-11-24T12:00:00-05:00"
SENT = "2026-11-24T10:00:00-05:00"
BAD_JSON = "{not json"
LINES: list[dict[str, str]] = [
    {
        "id": "ana-1@cust.example",
        "from": "ana@example.com",
        "name": "Ana",
        "subject": "Order #1043",
        "sent_at": SENT,
        "text": "Where is my order #1043? Tracking hasn't moved in 5 days.",
    },
    {
        "id": "bo-1@cust.example",
        "from": "bo@example.com",
        "sent_at": SENT,
        "text": "I will dispute the charge with my bank for order #3001 if you don't refund me.",
    },
    {
        "id": "cy-1@cust.example",
        "from": "cy@example.com",
        "sent_at": SENT,
        "text": "The tumbler arrived dented, order #2001.",
    },
    {  # the first line again
        "id": "ana-1@cust.example",
        "from": "ana@example.com",
        "name": "Ana",
        "subject": "Order #1043",
        "sent_at": SENT,
        "text": "Where is my order #1043? Tracking hasn't moved in 5 days.",
    },
    {
        "id": "ana-2@cust.example",
        "from": "ana@example.com",
        "sent_at": "2026-11-24T11:00:00-05:00",
        "text": "Any news?",
        "order": "1043",
    },
    {
        "id": "own-1@northwind.example",
        "from": "support@northwind.example",
        "sent_at": SENT,
        "text": "Our own mail, looped back.",
    },
]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cue index and model cache, built once and copied into each test's data folder."""
    data_dir = tmp_path_factory.mktemp("warm")
    result = CliRunner().invoke(cli, ["sla", "due", SENT, "1"], env={"AFTERSALES_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    return data_dir / "cache"


@pytest.fixture
def env(tmp_path: Path, warm_cache: Path) -> Env:
    shutil.copytree(warm_cache, tmp_path / "cache")
    return {"AFTERSALES_DATA_DIR": str(tmp_path), "AFTERSALES_POLICY": None, "AFTERSALES_DATABASE_URL": None}


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join([*(json.dumps(line) for line in LINES), BAD_JSON]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def desk(env: Env, inbox: Path) -> Env:
    """Given: the JSONL taken in (ana #1043 shipping_delay = case 1, bo #3001 chargeback_risk = 2,
    cy #2001 damaged_item = 3), clocks pinned at Tuesday 12:00."""
    ok(env, "intake", str(inbox))
    ok(env, "sla", "tick", "--now", TUESDAY_NOON, "--all")  # back in time: every case
    return env


def invoke(env: Env, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def ok(env: Env, *args: str) -> str:
    result = invoke(env, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def record(env: Env, case_id: int) -> dict[str, Any]:
    return json.loads(ok(env, "case", str(case_id), "--json"))  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- intake


def test_intake_prints_the_summary_and_each_quarantined_line(env: Env, inbox: Path) -> None:
    out = ok(env, "intake", str(inbox))

    assert out.splitlines() == [
        f"{inbox}: 3 new cases, 1 updated, 1 duplicates skipped, 1 screened "
        "(auto-replies, lists, delivery reports), 1 quarantined",
        f"  quarantined {inbox}:7: line 7: not valid JSON: Expecting property name enclosed in double quotes (column 2)",
    ]


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param(
            1,
            {"new_cases": 3, "updated_cases": 1, "duplicates": 1, "screened": 1, "failed": 1},
            id="first run",
        ),
        pytest.param(
            2,
            {"new_cases": 0, "updated_cases": 0, "duplicates": 5, "screened": 1, "failed": 1},
            id="run again",
        ),
    ],
)
def test_intake_json_gives_the_counts(env: Env, inbox: Path, runs: int, expected: dict[str, int]) -> None:
    for _ in range(runs - 1):
        ok(env, "intake", str(inbox))

    summary = json.loads(ok(env, "intake", "--json", str(inbox)))

    # how many wait for the semantic reader (tests/cli/test_intake_semantic.py): 0 without it
    assert isinstance(summary.pop("meaning_due"), int)
    assert summary == {
        "path": str(inbox),
        **expected,
        "failures": [
            f"{inbox}:7: line 7: not valid JSON: Expecting property name enclosed in double quotes (column 2)"
        ],
    }


# ----------------------------------------------------------------------------- the queue


def test_cases_json_lists_the_open_cases_riskiest_route_first(desk: Env) -> None:
    rows = json.loads(ok(desk, "cases", "--json"))

    assert [
        (r["id"], r["route"], r["status"], r["lead"], r["customer"], r["order"], r["risk"], r["sla"])
        for r in rows
    ] == [
        (
            2,
            "chargeback_risk",
            "new",
            {"role": "founder", "name": "Dana Whitfield"},
            "bo@example.com",
            "3001",
            "at risk",
            "at_risk",
        ),
        (
            3,
            "damaged_item",
            "new",
            {"role": "supply_chain", "name": "Tomás Ortega"},
            "cy@example.com",
            "2001",
            "on track",
            "on_track",
        ),
        (
            1,
            "shipping_delay",
            "new",
            {"role": "operations", "name": "Marcus Lee"},
            "ana@example.com",
            "1043",
            "on track",
            "on_track",
        ),
    ]
    assert [(r["assignee"], r["last_message_direction"]) for r in rows] == [(None, "inbound")] * 3
    assert rows[2]["preview"] == "Any news?"
    first_response = {r["id"]: next(c for c in r["clocks"] if c["name"] == "first_response") for r in rows}
    assert {i: (c["state"], c["due_at"]) for i, c in first_response.items()} == {
        2: ("at_risk", "2026-11-24T12:00:00-05:00"),  # 2 business hours
        1: ("on_track", "2026-11-25T11:00:00-05:00"),  # 8 business hours
        3: ("on_track", "2026-11-25T11:00:00-05:00"),
    }
    for row in rows:
        assert [c["name"] for c in row["clocks"]] == [
            "first_response",
            "next_update",
            "resolution",
            "escalation",
        ]
        for clock in row["clocks"]:
            assert {"due_at", "state"} <= set(clock)


@pytest.mark.parametrize(
    ("filters", "customers"),
    [
        pytest.param(["--route", "damaged_item"], ["cy@example.com"], id="--route"),
        pytest.param(["--lead", "founder"], ["bo@example.com"], id="--lead by role"),
        pytest.param(["--lead", "marcus lee"], ["ana@example.com"], id="--lead by name, any case"),
        pytest.param(["--lead", "Tom"], ["cy@example.com"], id="--lead by the start of the first name"),
        pytest.param(["--lead", "LEE"], ["ana@example.com"], id="--lead by the start of another name"),
        pytest.param(["--lead", "ee"], [], id="--lead not inside a word"),
        pytest.param(["--search", "dented"], ["cy@example.com"], id="--search a word of a message"),
        pytest.param(["--search", "Ana"], ["ana@example.com"], id="--search a customer's name"),
        pytest.param(["--search", "bo@example.com"], ["bo@example.com"], id="--search an e-mail"),
        pytest.param(["--search", "#2001"], ["cy@example.com"], id="--search an order number"),
        pytest.param(["--search", "refund bank"], ["bo@example.com"], id="--search every word"),
        pytest.param(["--status", "open"], [], id="--status"),
        pytest.param(["--assignee", "none", "--route", "damaged_item"], ["cy@example.com"], id="unassigned"),
        pytest.param(["--breaching"], ["bo@example.com"], id="--breaching: at risk counts"),
        pytest.param(["--breaching", "--lead", "operations"], [], id="--breaching and --lead together"),
    ],
)
def test_cases_filters(desk: Env, filters: list[str], customers: list[str]) -> None:
    rows = json.loads(ok(desk, "cases", "--json", *filters))

    assert [r["customer"] for r in rows] == customers


def test_cases_says_so_when_no_case_matches(desk: Env) -> None:
    assert ok(desk, "cases", "--route", "review") == "no open cases matching the filters\n"


# ----------------------------------------------------------------------------- one case


def test_case_prints_clocks_evidence_decision_and_timeline(desk: Env) -> None:
    lines = ok(desk, "case", "1").splitlines()

    assert (
        lines[0]
        == "CASE 1  shipping_delay  new   lead Marcus Lee   assignee -   customer ana@example.com   order #1043"
    )
    for heading in ("CLOCKS", "EVIDENCE", "DECISION", "TIMELINE"):
        assert heading in lines
    assert "  first_response  on_track   due 2026-11-25T11:00:00-05:00" in lines
    # typed, with no stored order: suggested, not ticked
    assert (
        "  [?] Order number  (the message names 'Order #1043': no stored order of theirs by that number)"
        in lines
    )
    assert (
        "  stop line: Do not refund or reship before the carrier check; do not only send a tracking link."
        in lines
    )
    timeline = lines[lines.index("TIMELINE") + 1 :]
    assert timeline[0].startswith("  2026-11-24 10:00  case_opened        customer     channel=form")
    assert timeline[1].startswith("  2026-11-24 10:00  routed             router       route=shipping_delay")
    assert any(line.startswith("  2026-11-24 11:00  message_received   customer") for line in timeline)


def test_case_json_is_the_whole_record(desk: Env) -> None:
    data = record(desk, 1)

    assert set(data) == {"case", "messages", "evidence", "files", "order", "timeline"}
    assert (data["case"]["id"], data["case"]["route"], data["case"]["customer"]) == (
        1,
        "shipping_delay",
        "ana@example.com",
    )
    assert [m["message_id"] for m in data["messages"]] == ["ana-1@cust.example", "ana-2@cust.example"]
    assert [e["key"] for e in data["evidence"]] == [
        "order_number",
        "last_scan",
        "promise_window",
        "carrier_check",
        "next_reply_time",
    ]
    assert [e["kind"] for e in data["timeline"]][:2] == ["case_opened", "routed"]


def test_case_of_an_unknown_id_fails_naming_it(desk: Env) -> None:
    result = invoke(desk, "case", "999")

    assert isinstance(result.exception, CaseNotFound)
    assert str(result.exception) == "no case 999"


# ----------------------------------------------------------------------------- working a case


def test_reply_with_a_time_prints_the_next_update_due(desk: Env) -> None:
    out = ok(
        desk,
        "reply",
        "1",
        "--text",
        "We're checking with the carrier; I'll update you by tomorrow 3 pm.",
        "--at",
        "2026-11-24T10:30:00-05:00",
        "--by",
        "Marcus Lee",
    )

    assert out == "case 1: reply recorded; next update due Wednesday 25 November, 15:00 EST\n"
    data = record(desk, 1)
    assert data["case"]["status"] == "open"
    sent = [e for e in data["timeline"] if e["kind"] == "reply_sent"]
    assert [(e["actor"], e["data"]) for e in sent] == [
        ("Marcus Lee", {"promised_update_at": "2026-11-25T15:00:00-05:00", "forced": False})
    ]


def test_reply_without_a_time_fails_with_the_reason_and_records_nothing(desk: Env) -> None:
    before = record(desk, 1)

    result = invoke(
        desk, "reply", "1", "--text", "We are looking into it.", "--at", "2026-11-24T10:30:00-05:00"
    )

    assert isinstance(result.exception, ReplyRefused)
    assert "no_next_step_time: Add a sentence with the next step and its time" in str(result.exception)
    assert "(use --force to send it anyway)" in str(result.exception)
    assert record(desk, 1) == before


def test_reply_forced_without_a_time_is_recorded_as_forced(desk: Env) -> None:
    out = ok(
        desk,
        "reply",
        "1",
        "--text",
        "We are looking into it.",
        "--at",
        "2026-11-24T10:30:00-05:00",
        "--force",
    )

    assert out == "case 1: reply recorded; next update due no time found\n"
    (sent,) = [e for e in record(desk, 1)["timeline"] if e["kind"] == "reply_sent"]
    assert sent["data"] == {"promised_update_at": None, "forced": True}


def test_note_adds_a_note_to_the_timeline(desk: Env) -> None:
    out = ok(desk, "note", "1", "--text", "Asked the warehouse for the pick record", "--by", "Marcus Lee")

    assert out == "case 1: note added\n"
    assert [
        (e["kind"], e["actor"], e["data"]) for e in record(desk, 1)["timeline"] if e["kind"] == "note_added"
    ] == [("note_added", "Marcus Lee", {"text": "Asked the warehouse for the pick record"})]


def test_status_waiting_on_customer_moves_the_case_and_pauses_its_clocks(desk: Env) -> None:
    out = ok(desk, "status", "1", "waiting_on_customer", "--by", "Marcus Lee")

    assert out == "case 1: waiting_on_customer\n"
    data = record(desk, 1)
    assert data["case"]["status"] == "waiting_on_customer"
    assert [(e["actor"], e["data"]) for e in data["timeline"] if e["kind"] == "status_changed"] == [
        ("Marcus Lee", {"from": "new", "to": "waiting_on_customer"})
    ]
    # The wait began at the real time, after these messages: a clock still due then is paused, one
    # already overdue stays breached; none runs on.
    states = {c["name"]: c["state"] for c in data["case"]["clocks"]}
    assert states["first_response"] == "breached"  # it was due on 25 November
    assert set(states.values()) <= {"paused", "breached", "stopped"}


def test_status_refuses_a_move_the_desk_does_not_allow(desk: Env) -> None:
    ok(desk, "status", "1", "resolved")

    result = invoke(desk, "status", "1", "waiting_on_customer")

    assert isinstance(result.exception, InvalidTransition)
    assert (
        str(result.exception) == "a resolved case cannot move to waiting_on_customer; allowed: closed, open"
    )
    assert record(desk, 1)["case"]["status"] == "resolved"


# ----------------------------------------------------------------------------- assignment

SAM = "sam@northwind.example"


def _add_user(env: Env, email: str, name: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["user", "add", email, "--role", "frontline", "--name", name, "--password-stdin"],
        env=env,
        input="a long enough password\n",
    )
    assert result.exit_code == 0, (result.output, result.exception)


def test_assign_gives_a_case_to_a_desk_user_and_mine_lists_it(desk: Env) -> None:
    _add_user(desk, SAM, "Sam Reyes")

    said = ok(desk, "assign", "3", "SAM@northwind.example", "--by", "Dana")
    mine = json.loads(ok(desk, "cases", "--json", "--mine", "--user", SAM))
    by_env = json.loads(ok({**desk, "AFTERSALES_USER": SAM}, "cases", "--json", "--mine"))
    nobody = json.loads(ok(desk, "cases", "--json", "--assignee", "none"))
    case = record(desk, 3)

    assert said == f"case 3: assigned to {SAM}\n"
    assert [r["id"] for r in mine] == [r["id"] for r in by_env] == [3]
    assert mine[0]["assignee"] == {"email": SAM, "name": "Sam Reyes"}
    assert [r["id"] for r in nobody] == [2, 1]
    assert case["case"]["assignee"] == {"email": SAM, "name": "Sam Reyes"}
    assert case["case"]["lead_name"] == "Tomás Ortega"  # the lead stays the escalation owner
    assigned = [e for e in case["timeline"] if e["kind"] == "assigned"]
    assert [(e["actor"], e["data"]["from"], e["data"]["to"]) for e in assigned] == [("Dana", None, SAM)]


def test_assign_refuses_an_unknown_user_listing_the_users_and_changes_nothing(desk: Env) -> None:
    _add_user(desk, SAM, "Sam Reyes")

    result = invoke(desk, "assign", "3", "someone@northwind.example")

    assert isinstance(result.exception, UnknownAssignee)
    assert str(result.exception) == (
        "'someone@northwind.example' is not an active user of the desk; its users: sam@northwind.example (Sam Reyes)"
    )
    assert record(desk, 3)["case"]["assignee"] is None
    assert not [e for e in record(desk, 3)["timeline"] if e["kind"] == "assigned"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param(["3"], "give one of EMAIL, --unassign or --lead WHO", id="nothing to assign"),
        pytest.param(["3", SAM, "--lead", "operations"], "give one of", id="a user and a lead"),
        pytest.param(["3", "--lead", SAM], "is not a lead", id="an e-mail as a lead"),
    ],
)
def test_assign_says_what_is_missing(desk: Env, args: list[str], problem: str) -> None:
    result = invoke(desk, "assign", *args)

    assert result.exit_code != 0
    assert problem in (result.output + str(result.exception))
    assert record(desk, 3)["case"]["lead_name"] == "Tomás Ortega"


def test_assign_lead_changes_the_escalation_owner_and_unassign_clears_the_assignee(desk: Env) -> None:
    _add_user(desk, SAM, "Sam Reyes")
    ok(desk, "assign", "3", SAM)

    lead = ok(desk, "assign", "3", "--lead", "operations")
    cleared = ok(desk, "assign", "3", "--unassign")

    assert (lead, cleared) == ("case 3: lead Marcus Lee\n", "case 3: assigned to nobody\n")
    assert (record(desk, 3)["case"]["lead_role"], record(desk, 3)["case"]["assignee"]) == ("operations", None)


def test_cases_mine_needs_to_know_who_you_are(desk: Env) -> None:
    result = invoke({**desk, "AFTERSALES_USER": None}, "cases", "--mine")

    assert result.exit_code == 2
    assert "--mine needs to know who you are" in result.output


# ----------------------------------------------------------------------------- sla


def test_sla_tick_twice_records_each_breach_once(desk: Env) -> None:
    late = "2026-12-31T12:00:00-05:00"

    first = ok(desk, "sla", "tick", "--now", late)
    breaches = _breaches(desk)
    second = ok(desk, "sla", "tick", "--now", late)

    assert re.fullmatch(r"3 open cases due a look: \d+ new breaches recorded\n", first)
    # every clock has breached: none turns again, so the second tick looks at no case
    assert second == "0 open cases due a look: 0 new breaches recorded\n"
    assert ok(desk, "sla", "tick", "--now", late, "--all") == "3 open cases: 0 new breaches recorded\n"
    assert _breaches(desk) == breaches
    assert len(breaches) == len(set(breaches))
    # by the end of December every case has breached its first response and its resolution
    for case_id in (1, 2, 3):
        assert {(case_id, "first_response"), (case_id, "resolution")} <= {(c, n) for c, n, _ in breaches}


def _breaches(env: Env) -> list[tuple[int, str, str]]:
    return [
        (case_id, e["data"]["name"], e["data"]["started_at"])
        for case_id in (1, 2, 3)
        for e in record(env, case_id)["timeline"]
        if e["kind"] == "clock_breached"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([], "2026-11-30T10:00:00-05:00  (Monday 30 November, 10:00 EST)\n", id="text"),
        pytest.param(
            ["--json"],
            '{"start": "2026-11-27T16:00:00-05:00", "business_hours": 4.0, "due": "2026-11-30T10:00:00-05:00"}\n',
            id="json",
        ),
    ],
)
def test_sla_due_friday_close_then_saturday_then_monday(env: Env, args: list[str], expected: str) -> None:
    # Friday closes at 16:00; Saturday 10:00–13:00 gives 3 hours; Monday 09:00–10:00 the fourth
    assert ok(env, "sla", "due", *args, "2026-11-27T16:00:00-05:00", "4") == expected


def test_sla_due_help_example_gives_what_the_command_prints(env: Env) -> None:
    example = re.search(r"aftersales sla due (\S+) (\S+)\s+-> (\S+)", ok(env, "sla", "due", "--help"))
    assert example is not None
    start, hours, due = example.groups()

    assert ok(env, "sla", "due", start, hours).split()[0] == due


# ----------------------------------------------------------------------------- db


def test_db_upgrade_is_idempotent_and_keeps_the_data(env: Env, inbox: Path, tmp_path: Path) -> None:
    where = f"sqlite:///{tmp_path / 'aftersales.db'}"

    assert ok(env, "db", "upgrade") == f"{where}: schema empty -> {head_revision()}\n"
    ok(env, "intake", str(inbox))
    assert ok(env, "db", "upgrade") == f"{where}: schema {head_revision()} -> {head_revision()}\n"
    assert len(json.loads(ok(env, "cases", "--json"))) == 3


def test_db_upgrade_uses_the_database_named_by_aftersales_database_url(env: Env, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "desk.db"
    other.parent.mkdir()

    out = ok(env | {"AFTERSALES_DATABASE_URL": f"sqlite:///{other}"}, "db", "upgrade")

    assert out.startswith(f"sqlite:///{other}: ")
    assert other.exists()
    assert not (tmp_path / "aftersales.db").exists()
