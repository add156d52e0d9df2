"""The readiness items as tables: what passes, what fails with which fix, what is skipped."""

from __future__ import annotations

import pytest

from aftersales.domain.readiness import (
    ADD_RETURN_POLICY,
    CheckResult,
    FormField,
    Status,
    acknowledgement,
    all_pass,
    contact_form,
    form_fields,
    holidays,
    inbox_login,
    return_policy,
    route_leads,
    semantic_reader,
    smtp_self_send,
)

GOOD_RETURNS = (
    "Return unused items in their original packaging within 30 days of delivery. "
    "The buyer pays return shipping unless the item arrived damaged. Include your order number."
)
FORM = """
<form method="post" action="/login"><input name="password" type="password"></form>
<form method="post" action="/contact" class="stack">
  <input type="hidden" name="csrf_token" value="x">
  <label>Order number <input type="text" name="order"></label>
  <select name="issue" required><option value="">choose one</option>{% for k in issues %}<option value="{{ k }}">{% endfor %}</select>
  <textarea name="message"></textarea>
</form>
"""


@pytest.mark.parametrize(
    ("configured", "offline", "error", "status"),
    [
        pytest.param(True, False, None, Status.PASS, id="logged_in"),
        pytest.param(True, False, "the IMAP server refused the login", Status.FAIL, id="refused"),
        pytest.param(True, True, None, Status.SKIP, id="no_network"),
        pytest.param(False, True, None, Status.FAIL, id="not_configured_fails_even_offline"),
    ],
)
def test_the_inbox_login(configured: bool, offline: bool, error: str | None, status: Status) -> None:
    result = inbox_login(
        configured=configured, offline=offline, error=error, where="support@imap.example.com"
    )

    assert result.status is status
    assert bool(result.fix) is (status is Status.FAIL)


@pytest.mark.parametrize(
    ("configured", "offline", "error", "status"),
    [
        pytest.param(True, False, None, Status.PASS, id="sent"),
        pytest.param(True, False, "535 authentication failed", Status.FAIL, id="refused"),
        pytest.param(True, True, None, Status.SKIP, id="no_network"),
        pytest.param(False, False, None, Status.SKIP, id="not_configured_is_skipped"),
    ],
)
def test_the_smtp_self_send(configured: bool, offline: bool, error: str | None, status: Status) -> None:
    assert smtp_self_send(configured=configured, offline=offline, error=error).status is status


def test_the_acknowledgement_must_name_the_due_time() -> None:
    promised = "Tuesday 1 December, 10:00"

    assert acknowledgement(f"We will reply by {promised} (America/New_York).", promised).status is Status.PASS
    vague = acknowledgement("We will reply as soon as we can.", promised)
    assert (vague.status, vague.detail) == (
        Status.FAIL,
        "the acknowledgement names no time for the first answer",
    )


def test_the_contact_forms_fields_are_read_from_its_template() -> None:
    assert form_fields(FORM) == [
        FormField("csrf_token", "hidden"),
        FormField("order", "text"),
        FormField("issue", "select"),
        FormField("message", "textarea"),
    ]


@pytest.mark.parametrize(
    ("names", "choices", "status", "detail"),
    [
        pytest.param(
            ("order", "issue", "message"), 8, Status.PASS, "fields: order, issue, message; 8 issue types"
        ),
        pytest.param(
            ("issue", "message"), 8, Status.FAIL, "the form lacks an order number field", id="no_order"
        ),
        pytest.param(
            ("order", "message"), 8, Status.FAIL, "the form lacks an issue type to choose", id="no_issue"
        ),
        pytest.param(
            ("order", "issue"), 1, Status.FAIL, "the form lacks an issue type to choose", id="one_choice"
        ),
    ],
)
def test_the_contact_form_needs_order_and_issue(
    names: tuple[str, ...], choices: int, status: Status, detail: str
) -> None:
    result = contact_form([FormField(name, "text") for name in names], choices)

    assert (result.status, result.detail) == (status, detail)


@pytest.mark.parametrize(
    ("version", "text", "status", "fix"),
    [
        pytest.param("v2", GOOD_RETURNS, Status.PASS, "", id="states_all_three"),
        pytest.param(None, None, Status.FAIL, ADD_RETURN_POLICY, id="no_texts_stored"),
        pytest.param("v1", None, Status.FAIL, ADD_RETURN_POLICY, id="texts_without_a_return_policy"),
        pytest.param(
            "v3",
            "Returns accepted within 30 days.",
            Status.FAIL,
            "say it in the return policy and add the new text with `aftersales policy texts add --return FILE`",
            id="states_only_the_window",
        ),
    ],
)
def test_the_return_policy_in_force(version: str | None, text: str | None, status: Status, fix: str) -> None:
    result = return_policy(version, text)

    assert (result.status, result.fix) == (status, fix)


def test_a_vague_return_policy_names_what_it_does_not_state() -> None:
    assert return_policy("v3", "Returns accepted within 30 days.").detail == (
        "v3: the return policy does not state who pays return shipping "
        '(e.g. "the buyer pays return shipping"); the return policy does not state the proof '
        'required (e.g. "order number and photos; unused, in original packaging")'
    )


def test_every_route_needs_a_lead() -> None:
    roles = {"damaged_item": "operations", "review": "marketing", "where_is_my_order": "frontline"}

    fine = route_leads(roles, {"operations": "Marcus", "marketing": "Jo", "frontline": "Maya"})
    missing = route_leads(roles, {"operations": "Marcus", "marketing": " ", "frontline": "Maya"})

    assert fine.status is Status.PASS
    assert (missing.status, missing.detail, missing.fix) == (
        Status.FAIL,
        "no lead for review (marketing)",
        "name a person for [leads.marketing] in the policy file",
    )


@pytest.mark.parametrize(("closed", "status"), [(12, Status.PASS), (0, Status.FAIL)])
def test_holidays_must_be_known_for_the_year_ahead(closed: int, status: Status) -> None:
    assert holidays(closed_days=closed, where="US-NY").status is status


def test_skipped_items_do_not_fail_the_check() -> None:
    passed = CheckResult(key="a", title="A", status=Status.PASS)
    skipped = CheckResult(key="b", title="B", status=Status.SKIP)
    failed = CheckResult(key="c", title="C", status=Status.FAIL, fix="do it")

    assert all_pass([passed, skipped]) is True
    assert all_pass([passed, failed]) is False
    assert failed.to_dict() == {"key": "c", "title": "C", "status": "fail", "detail": "", "fix": "do it"}


@pytest.mark.parametrize(
    ("enabled", "installed", "reads", "status", "detail"),
    [
        (True, True, True, Status.PASS, "all-MiniLM-L6-v2 read a sample message"),
        (
            False,
            False,
            False,
            Status.PASS,
            "off in the policy ([reader] semantic = false): the words alone route",
        ),
        (True, False, False, Status.FAIL, "not installed: unsure messages are routed by their words alone"),
        (True, True, False, Status.FAIL, "installed, but its model cannot be read (the log says why)"),
    ],
)
def test_the_semantic_reader_is_installed_and_reads_unless_the_policy_turns_it_off(
    enabled: bool, installed: bool, reads: bool, status: Status, detail: str
) -> None:
    found = semantic_reader(enabled=enabled, installed=installed, reads=reads)
    assert (found.status, found.detail) == (status, detail)
    assert bool(found.fix) is (status is Status.FAIL)
