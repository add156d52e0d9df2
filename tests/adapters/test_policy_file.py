"""The policy file: the packaged default, every kind of broken key, and line numbers."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.adapters.policy.file import (
    LEAD_ROLES,
    PolicyError,
    Problem,
    default_policy,
    default_policy_text,
    load_policy,
    locate,
    parse_policy,
)
from aftersales.domain.policy import Interval, Payer, ReturnReason, StorePolicy
from aftersales.domain.routes import EvidenceSpec, Route, RouteSpec, SlaTargets

DEFAULT = default_policy_text()


def _line_of(text: str, fragment: str) -> int:
    """1-based number of the first line containing ``fragment``."""
    for number, line in enumerate(text.split("\n"), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in text")


def _edit(old: str, new: str) -> str:
    assert DEFAULT.count(old) >= 1, old
    return DEFAULT.replace(old, new, 1)


def _problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.toml")
    return caught.value.problems


# ----------------------------------------------------------------------------- the default


def test_default_policy_parses_to_the_demo_store() -> None:
    policy = default_policy()
    assert policy.store_name == "Northwind Tumblers"
    assert policy.support_email == "support@northwind.example"
    assert (policy.currency, policy.time_zone) == ("USD", "America/New_York")
    assert (policy.country, policy.subdivision) == ("US", "NY")
    assert date(2026, 12, 24) in policy.closures
    assert policy.business_hours[0] == (
        Interval(time(9), time(12)),
        Interval(time(13), time(17)),
    )
    assert 6 not in policy.business_hours  # Sunday is closed
    assert 0 < policy.at_risk_share < 1
    assert policy.frontline_refund_limit == Decimal("50.00")
    assert set(policy.return_shipping_payer) == set(ReturnReason)
    assert policy.return_shipping_payer[ReturnReason.DAMAGED] is Payer.STORE
    assert set(policy.leads) == set(LEAD_ROLES)
    assert policy.promise_for("US") is not None
    assert policy.promise_for("JP") == policy.promise_for(None)  # falls back to "*"
    assert policy.source == "<built-in default>"


def test_default_policy_is_cached_and_read_only() -> None:
    policy = default_policy()
    assert default_policy() is policy
    with pytest.raises(TypeError):
        policy.leads["founder"] = policy.leads["frontline"]  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.route_overrides[Route.OTHER] = {}  # type: ignore[index]


def test_every_key_in_the_default_is_commented_on_its_line() -> None:
    for line in DEFAULT.split("\n"):
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith(("#", "[")):
            assert "#" in stripped, f"no comment on: {line}"


def test_default_shows_commented_out_sla_and_route_overrides() -> None:
    assert "# [sla." in DEFAULT
    assert "# [routes." in DEFAULT


def test_uncommented_examples_in_the_default_are_valid() -> None:
    text = DEFAULT
    for header in ("[sla.chargeback_risk]", "[routes.wrong_item]"):
        start = text.index(f"# {header}")
        end = text.find("\n\n", start)
        block = text[start : len(text) if end < 0 else end]
        text = text.replace(block, "\n".join(line[2:] for line in block.split("\n")))
    policy = parse_policy(text)
    assert policy.sla_overrides[Route.CHARGEBACK_RISK]["first_response_hours"] == 2
    assert policy.route_overrides[Route.WRONG_ITEM]["lead"] == "operations"


# ----------------------------------------------------------------------------- broken keys

# (old text, new text, key, line marker in the edited file, fragment of the message)
BROKEN = [
    pytest.param("schema = 1", "schema = 2", "schema", "schema = 2", "must be 1", id="schema-version"),
    pytest.param(
        'name = "Northwind Tumblers"',
        'name = ""',
        "store.name",
        'name = ""',
        "non-empty",
        id="empty-name",
    ),
    pytest.param(
        'support_email = "support@northwind.example"',
        'support_email = "support"',
        "store.support_email",
        "support_email",
        "one @, a dot in the domain",
        id="email",
    ),
    pytest.param(
        'currency = "USD"',
        'currency = "dollars"',
        "store.currency",
        "currency",
        "three-letter ISO 4217",
        id="currency",
    ),
    pytest.param(
        'time_zone = "America/New_York"',
        'time_zone = "America/NewYork"',
        "store.time_zone",
        "time_zone",
        "did you mean 'America/New_York'",
        id="time-zone",
    ),
    pytest.param(
        'country = "US"',
        'country = "XX"',
        "store.country",
        "country =",
        "ISO 3166-1 alpha-2",
        id="country",
    ),
    pytest.param(
        'subdivision = "NY"',
        'subdivision = "ZZ"',
        "store.subdivision",
        "subdivision",
        "subdivision codes the holidays package knows for 'US'",
        id="subdivision",
    ),
    pytest.param(
        "closures = [2026-12-24, 2026-12-31]",
        'closures = ["2026-12-24"]',
        "store.closures[0]",
        "closures",
        "without quotes",
        id="quoted-closure",
    ),
    pytest.param(
        'name = "Northwind Tumblers"',
        'nmae = "Northwind Tumblers"',
        "store.nmae",
        "nmae",
        "did you mean 'name'",
        id="unknown-store-key",
    ),
    pytest.param(
        'name = "Northwind Tumblers"',
        "",
        "store.name",
        "[store]",
        "is missing",
        id="missing-name-reports-table-header",
    ),
    pytest.param(
        'saturday = ["10:00-13:00"]',
        'saturday = ["13:00-10:00"]',
        "hours.saturday[0]",
        "saturday =",
        '"HH:MM-HH:MM"',
        id="interval-backwards",
    ),
    pytest.param(
        'saturday = ["10:00-13:00"]',
        'saturday = ["10:00-13:00", "12:00-14:00"]',
        "hours.saturday",
        "saturday =",
        "must not overlap",
        id="interval-overlap",
    ),
    pytest.param(
        'saturday = ["10:00-13:00"]',
        'saturday = "10:00-13:00"',
        "hours.saturday",
        "saturday =",
        "a list of items",
        id="day-not-a-list",
    ),
    pytest.param(
        'saturday = ["10:00-13:00"]',
        'satruday = ["10:00-13:00"]',
        "hours.satruday",
        "satruday",
        "did you mean 'saturday'",
        id="unknown-day",
    ),
    pytest.param(
        "at_risk_share = 0.75",
        "at_risk_share = 1",
        "sla.at_risk_share",
        "at_risk_share",
        "greater than 0 and less than 1",
        id="at-risk-share",
    ),
    pytest.param(
        "# [sla.chargeback_risk]\n# first_response_hours = 2",
        "[sla.chargeback_risk]\nfirst_response_hours = 0",
        "sla.chargeback_risk.first_response_hours",
        "first_response_hours = 0",
        "greater than 0",
        id="sla-hours-zero",
    ),
    pytest.param(
        "# [sla.chargeback_risk]\n# first_response_hours = 2",
        "[sla.chargeback_risk]\nfirst_response = 2",
        "sla.chargeback_risk.first_response",
        "first_response = 2",
        "did you mean 'first_response_hours'",
        id="sla-unknown-clock",
    ),
    pytest.param(
        "# [sla.chargeback_risk]",
        "[sla.chargebacks]",
        "sla.chargebacks",
        "[sla.chargebacks]",
        "pre_purchase, cancel_or_change, shipping_delay",
        id="sla-unknown-route",
    ),
    pytest.param(
        "stalled_scan_days = 4",
        "stalled_scan_days = 0",
        "shipping.stalled_scan_days",
        "stalled_scan_days",
        "1 or more",
        id="stalled-days",
    ),
    pytest.param(
        "stalled_scan_days = 4",
        "stalled_scan_days = true",
        "shipping.stalled_scan_days",
        "stalled_scan_days",
        "got true",
        id="bool-is-not-a-count",
    ),
    pytest.param(
        'destination = "CA"',
        'destination = "US"',
        "shipping.promise[1].destination",
        'destination = "US"  # Canada',
        "each destination may appear once",
        id="dup-destination",
    ),
    pytest.param(
        'destination = "CA"',
        'destination = "Canada"',
        "shipping.promise[1].destination",
        "Canada",
        "or '*' for everywhere else",
        id="bad-destination",
    ),
    pytest.param(
        "max_days = 10",
        "max_days = 4",
        "shipping.promise[1].max_days",
        "max_days = 4",
        "at least min_days (5)",
        id="max-below-min",
    ),
    pytest.param(
        "window_days = 30",
        "window_days = -1",
        "returns.window_days",
        "window_days",
        "0 or more",
        id="window",
    ),
    pytest.param(
        'frontline_refund_limit = "50.00"',
        'frontline_refund_limit = "$50"',
        "returns.frontline_refund_limit",
        "frontline_refund_limit",
        'decimal string like "50.00"',
        id="refund-limit",
    ),
    pytest.param(
        'damaged = "store"',
        'damaged = "us"',
        "returns.shipping_payer.damaged",
        "damaged =",
        "'store' or 'customer'",
        id="payer",
    ),
    pytest.param(
        'damaged = "store"',
        'damage = "store"',
        "returns.shipping_payer.damage",
        "damage =",
        "did you mean 'damaged'",
        id="unknown-reason",
    ),
    pytest.param(
        'damaged = "store"  # arrived damaged\n',
        "",
        "returns.shipping_payer.damaged",
        "[returns.shipping_payer]",
        "'store' or 'customer'",
        id="missing-reason",
    ),
    pytest.param(
        "[leads.marketing]",
        "[leads.marketer]",
        "leads.marketer",
        "[leads.marketer]",
        "frontline, operations, founder, supply_chain, marketing",
        id="unknown-role",
    ),
    pytest.param(
        'email = "dana@northwind.example"',
        'email = "dana at northwind"',
        "leads.founder.email",
        "dana at northwind",
        "e-mail address",
        id="lead-email",
    ),
    pytest.param(
        "# [routes.wrong_item]\n# lead",
        '[routes.wrong_item]\nlead = "ops"\n# lead',
        "routes.wrong_item.lead",
        'lead = "ops"',
        "one of the lead roles",
        id="route-lead",
    ),
    pytest.param(
        "# [routes.wrong_item]",
        "[routes.wrongitem]",
        "routes.wrongitem",
        "[routes.wrongitem]",
        "did you mean 'wrong_item'",
        id="unknown-route",
    ),
    pytest.param(
        "# [routes.wrong_item]",
        "[routes.wrong_item]\nsla = 4",
        "routes.wrong_item.sla",
        "sla = 4",
        "allowed: title, frontline_action",
        id="route-unknown-field",
    ),
    pytest.param(
        "[shipping]",
        "[shiping]",
        "shiping",
        "[shiping]",
        "did you mean 'shipping'",
        id="unknown-section",
    ),
    pytest.param(
        "[leads.frontline]",
        '[routes.damaged_item]\nevidence = [{ key = "photo", label = "Photo", detected_by = "fotos" }]\n\n'
        "[leads.frontline]",
        "routes.damaged_item.evidence[0].detected_by",
        'detected_by = "fotos"',
        "one of order_number, tracking_number, photo, sku, money, date, email, order.last_scan",
        id="unknown-detected-by",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "marker", "fragment"), BROKEN)
def test_a_broken_key_is_reported_with_its_key_line_and_what_is_allowed(
    old: str, new: str, key: str, marker: str, fragment: str
) -> None:
    text = _edit(old, new)
    problems = _problems(text)
    matching = [p for p in problems if p.key == key]
    assert matching, "\n".join(map(str, problems))
    problem = matching[0]
    assert problem.line == _line_of(text, marker)
    assert problem.source == "policy.toml"
    assert fragment in problem.message
    assert str(problem).startswith(f"policy.toml:{problem.line}: {key}: ")


def test_problem_text_matches_the_documented_format() -> None:
    text = _edit(
        "# [sla.chargeback_risk]\n# first_response_hours = 2",
        '[sla.shipping_delay]\nfirst_response_hours = "soon"',
    )
    line = _line_of(text, 'first_response_hours = "soon"')
    (problem,) = _problems(text)
    assert str(problem) == (
        f"policy.toml:{line}: sla.shipping_delay.first_response_hours: "
        "must be a number of hours greater than 0, got 'soon'"
    )


def test_several_problems_in_one_file_are_all_reported_in_file_order() -> None:
    text = (
        DEFAULT.replace('currency = "USD"', 'currency = "usd"')
        .replace("at_risk_share = 0.75", "at_risk_share = 2")
        .replace('wrong_item = "store"', 'wrong_item = "nobody"')
        .replace("[leads.marketing]", "[leads.marketeers]")
    )
    problems = _problems(text)
    keys = [p.key for p in problems]
    assert keys == [
        "store.currency",
        "sla.at_risk_share",
        "returns.shipping_payer.wrong_item",
        "leads.marketing",  # the required role is now missing ...
        "leads.marketeers",  # ... and the misspelt one is unknown
    ]
    lines = [p.line for p in problems]
    assert lines == sorted(lines)  # type: ignore[type-var]
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.toml")
    assert str(caught.value).split("\n") == [str(p) for p in problems]


def test_missing_sections_have_no_line_and_come_last() -> None:
    problems = _problems("schema = 1\nwhatever = 3\n")
    assert problems[0].key == "whatever"
    assert problems[0].line == 2
    assert {p.key for p in problems[1:]} == {
        "store",
        "hours",
        "sla",
        "shipping",
        "returns",
        "leads",
    }
    assert all(p.line is None for p in problems[1:])
    assert str(problems[1]).startswith("policy.toml: ")


def test_a_missing_key_in_an_array_table_reports_that_tables_header() -> None:
    text = _edit("min_days = 5  # earliest promised delivery\n", "")
    (problem,) = _problems(text)
    assert problem.key == "shipping.promise[1].min_days"
    header = _line_of(text, 'destination = "CA"') - 1
    assert text.split("\n")[header - 1] == "[[shipping.promise]]"
    assert problem.line == header
    assert problem.message == "is missing; it must be a whole number of business days, 0 or more"


def test_a_week_with_no_opening_hours_is_refused() -> None:
    text = DEFAULT
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday"):
        text = text.replace(f"\n{day} = [", f"\n{day} = [] # [")
    (problem,) = _problems(text)
    assert problem.key == "hours"
    assert problem.line == _line_of(text, "[hours]")
    assert "at least one day" in problem.message


def test_no_shipping_promise_is_refused() -> None:
    text = DEFAULT.replace("[[shipping.promise]]", "[[shipping.promises]]")
    problems = _problems(text)
    assert [p.key for p in problems][:2] == ["shipping.promise", "shipping.promises"]
    assert "at least one [[shipping.promise]]" in problems[0].message


def test_refund_limit_accepts_numbers_and_decimal_strings() -> None:
    for written, amount in (("75", "75"), ("12.5", "12.5"), ('"0"', "0")):
        text = _edit('frontline_refund_limit = "50.00"', f"frontline_refund_limit = {written}")
        assert parse_policy(text).frontline_refund_limit == Decimal(amount)


def test_route_overrides_fit_dataclasses_replace_on_a_route_spec() -> None:
    extra = """
[routes.wrong_item]
title = "Wrong item or variant"  # shown to the team
lead = "supply_chain"
write_back = ["SKU naming", "Variant images"]
evidence = [
  { key = "order_number", label = "Order number", detected_by = "order_number" },
  { key = "item_photo", label = "Photo of the item received" },
]
"""
    policy = parse_policy(DEFAULT + extra)
    overrides = policy.route_overrides[Route.WRONG_ITEM]
    base = RouteSpec(
        route=Route.WRONG_ITEM,
        title="t",
        frontline_action="a",
        risky_route="r",
        correct_route="c",
        escalation_trigger="e",
        lead="operations",
        evidence=(),
        write_back=(),
        first_reply="f",
        resolution_path="p",
        stop_line="s",
        record_location="r",
        sla=SlaTargets(1, 2, 3, 4),
    )
    spec = dataclasses.replace(base, **overrides)  # type: ignore[arg-type]
    assert spec.title == "Wrong item or variant"
    assert spec.lead == "supply_chain"
    assert spec.write_back == ("SKU naming", "Variant images")
    assert spec.evidence == (
        EvidenceSpec("order_number", "Order number", "order_number"),
        EvidenceSpec("item_photo", "Photo of the item received", None),
    )


def test_sla_overrides_accept_any_subset_of_clocks() -> None:
    extra = "\n[sla.shipping_delay]\nnext_update_hours = 8\nresolution_hours = 40.5\n"
    text = DEFAULT.replace("\n[shipping]\n", extra + "\n[shipping]\n")
    overrides = parse_policy(text).sla_overrides
    assert dict(overrides[Route.SHIPPING_DELAY]) == {
        "next_update_hours": 8.0,
        "resolution_hours": 40.5,
    }


# ----------------------------------------------------------------------------- syntax, bytes


def test_toml_syntax_error_is_one_problem_with_its_line() -> None:
    text = _edit('currency = "USD"', 'currency = "USD')
    (problem,) = _problems(text)
    assert problem.line == _line_of(text, 'currency = "USD')
    assert problem.key == ""
    assert problem.message.startswith("not valid TOML: ")
    assert "https://toml.io" in problem.message
    assert str(problem).startswith(f"policy.toml:{problem.line}: not valid TOML")


def test_integers_beyond_pythons_digit_limit_are_a_policy_error() -> None:
    (problem,) = _problems(_edit("window_days = 30", "window_days = " + "9" * 5000))
    assert "not valid TOML" in problem.message


def test_non_utf8_bytes_are_a_policy_error_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    data = DEFAULT.replace("Tomás", "Tom\udce1s").encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert problem.source == str(path)
    assert problem.line == _line_of(DEFAULT, "Tomás")
    assert "not UTF-8" in problem.message
    assert "0xe1" in problem.message


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert problem.line is None
    assert "cannot read the policy file" in problem.message
    assert "No such file" in problem.message


def test_a_directory_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path)


def test_load_policy_reads_a_file_and_tolerates_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEFAULT.encode("utf-8"))
    policy = load_policy(path)
    assert policy.source == str(path)
    assert policy.leads["supply_chain"].name == "Tomás Ortega"


def test_policy_error_survives_pickling() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("schema = 2", "p.toml")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.problems == caught.value.problems
    assert str(copy) == str(caught.value)


# ----------------------------------------------------------------------------- locator

LOCATOR_TEXT = '''\
top = 1
[a]
b = """
c = 1
[not.a.table]
"""
d.e = 2
"quoted.key" = 3
[[list]]
x = [
  1,
]
[[list]]
x = 2  # second
[list.sub]
y = 3
'''


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("top", 1),
        ("a", 2),
        ("a.b", 3),
        ("a.c", None),  # inside the multi-line string, not a key
        ("not.a.table", None),
        ("a.d", 7),
        ("a.d.e", 7),
        ("a.quoted.key", 8),
        ("list", 9),
        ("list[0]", 9),
        ("list[0].x", 10),
        ("list[1]", 13),
        ("list[1].x", 14),
        ("list[1].sub.y", 16),
        ("list[2]", None),
        ("absent", None),
    ],
)
def test_locate_finds_keys_headers_and_array_tables(key: str, line: int | None) -> None:
    assert locate(LOCATOR_TEXT, key) == line


def test_locate_in_the_default() -> None:
    assert locate(DEFAULT, "hours.monday") == _line_of(DEFAULT, "monday = [")
    assert locate(DEFAULT, "shipping.promise[1].max_days") == _line_of(DEFAULT, "max_days = 10")
    assert locate(DEFAULT, "leads.founder") == _line_of(DEFAULT, "[leads.founder]")
    assert locate(DEFAULT, "sla.shipping_delay.first_response_hours") is None


# ----------------------------------------------------------------------------- never crashes


def _parses_or_refuses(text: str) -> None:
    outcome = _parse_or_error(text)
    if isinstance(outcome, PolicyError):
        assert outcome.problems
        assert all(isinstance(p, Problem) for p in outcome.problems)
        assert str(outcome)
    else:
        assert isinstance(outcome, StorePolicy)


def _parse_or_error(text: str) -> StorePolicy | PolicyError:
    # Anything other than these two escaping parse_policy fails the test by itself.
    try:
        return parse_policy(text, "fuzz.toml")
    except PolicyError as error:
        return error


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_policy_error(text: str) -> None:
    _parses_or_refuses(text)


DEFAULT_LINES = DEFAULT.split("\n")
TOML_ATOMS = st.sampled_from(
    [
        '"x"',
        "0",
        "-1",
        "1.5",
        "nan",
        "inf",
        "true",
        "[]",
        "{}",
        "2026-01-01",
        '"24:00-25:00"',
        '[1, "a"]',
        "{ a = 1 }",
        '"""\nx\n"""',
        "'''",
        "1979-05-27T07:32:00Z",
        "99999999999",
    ]
)


@st.composite
def edited_default(draw: st.DrawFn) -> str:
    """The default with a few lines replaced, so the validators (not only TOML) get hit."""
    lines = list(DEFAULT_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        key = lines[index].split("=")[0].strip() or "key"
        choice = draw(st.integers(0, 3))
        if choice == 0:
            lines[index] = f"{key} = {draw(TOML_ATOMS)}"
        elif choice == 1:
            lines[index] = draw(st.text(max_size=30))
        elif choice == 2:
            del lines[index]
        else:
            lines.insert(index, draw(st.sampled_from(["[x]", "[[shipping.promise]]", "[sla.other]"])))
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_default())
def test_edited_default_parses_or_raises_policy_error(text: str) -> None:
    _parses_or_refuses(text)
