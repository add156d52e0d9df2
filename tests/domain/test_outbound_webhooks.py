"""Outbound webhooks' pure parts: which timeline events are told, the payload, the URL
check, the signature round trip (hypothesis) and the retry schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.outbound_webhooks import (
    EVENT_OF_KIND,
    RETRY,
    TOLERANCE_SECONDS,
    CaseFacts,
    WebhookEvent,
    body_of,
    excerpt,
    next_attempt_at,
    parse_events,
    payload,
    signature_header,
    signature_problem,
    url_problem,
)

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
CASE = CaseFacts(
    id=7,
    route="chargeback_risk",
    status="new",
    order_number="1043",
    lead_role="finance",
    opened_at=AT,
    assignee="",
)


@pytest.mark.parametrize(
    ("kind", "data", "event", "told", "case_status", "case_route"),
    [
        ("case_opened", {"channel": "email"}, "case.opened", {"channel": "email"}, "new", "chargeback_risk"),
        (
            "routed",
            {"route": "where_is_my_order", "confidence": 0.8, "flags": ["x"]},
            "case.routed",
            {"route": "where_is_my_order", "previous_route": None, "confidence": 0.8, "by": "router"},
            "new",
            "where_is_my_order",
        ),
        (
            "rerouted",
            {"route": "damaged", "from": "other", "to": "damaged", "reason": "words", "confidence": 0.5},
            "case.routed",
            {"route": "damaged", "previous_route": "other", "confidence": 0.5, "by": "person"},
            "new",
            "damaged",
        ),
        (
            "status_changed",
            {"from": "new", "to": "open"},
            "case.status_changed",
            {"from": "new", "to": "open", "by": "customer"},
            "open",
            "chargeback_risk",
        ),
        (
            "clock_breached",
            {"name": "first_response", "state": "breached", "due_at": "a", "breached_at": "b"},
            "case.breached",
            {"clock": "first_response", "due_at": "a", "breached_at": "b"},
            "new",
            "chargeback_risk",
        ),
        (
            "rated",
            {"rating": "bad", "comment": "my own words"},
            "case.rated",
            {"rating": "bad", "has_comment": True},
            "new",
            "chargeback_risk",
        ),
    ],
)
def test_each_told_kind_has_its_public_shape(  # noqa: PLR0913 - one scenario row
    kind: str, data: dict[str, object], event: str, told: dict[str, object], case_status: str, case_route: str
) -> None:
    document = payload(event_id=42, kind=kind, at=AT, actor="customer", data=data, case=CASE)
    assert document["event"] == event
    assert document["id"] == "evt_42"
    assert document["occurred_at"] == AT.isoformat()
    assert document["data"] == told
    assert document["case"]["status"] == case_status
    assert document["case"]["route"] == case_route
    assert document["case"]["order_number"] == "1043"
    # no person's words leave the desk: a comment, a reason
    assert "my own words" not in body_of(document)
    assert "words" not in json.dumps(document["data"])


def test_only_the_five_public_events_are_told() -> None:
    assert set(EVENT_OF_KIND.values()) == set(WebhookEvent)
    assert "note_added" not in EVENT_OF_KIND
    assert "reply_sent" not in EVENT_OF_KIND


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (["case.opened", "case.breached"], None),
        (["case.closed"], "unknown event 'case.closed'"),
        ([], "name at least one event"),
    ],
)
def test_events_are_named_from_the_list(names: list[str], problem: str | None) -> None:
    if problem is None:
        assert parse_events(names) == (WebhookEvent.CASE_OPENED, WebhookEvent.CASE_BREACHED)
        return
    with pytest.raises(ValueError, match=problem):
        parse_events(names)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example.com/aftersales", None),
        ("http://127.0.0.1:8080/in", None),
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://x", "only http and https"),
        ("example.com/hook", "only http and https"),
        ("https://", "names no host"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com/a b", "space"),
        ("https://example.com:99999/", "cannot be read"),
        ("https://example.com/" + "a" * 2000, "longer than"),
    ],
)
def test_only_http_urls_with_a_host_can_receive(url: str, problem: str | None) -> None:
    found = url_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


@given(secret=st.text(min_size=1, max_size=80), body=st.binary(max_size=2000), now=st.integers(0, 2**33))
def test_a_signature_verifies_and_a_changed_body_or_secret_does_not(
    secret: str, body: bytes, now: int
) -> None:
    header = signature_header(secret, now, body)
    assert signature_problem(secret, header, body, now=now) is None
    assert signature_problem(secret, header, body, now=now + TOLERANCE_SECONDS) is None
    assert signature_problem(secret, header, body + b"x", now=now) == "no v1 signature matches the body"
    assert signature_problem(secret + "x", header, body, now=now) == "no v1 signature matches the body"


@pytest.mark.parametrize(
    ("header", "late", "problem"),
    [
        ("t=1000,v1=00", 0, "no v1 signature matches"),
        ("v1=abc", 0, "no timestamp"),
        ("t=12a,v1=abc", 0, "no timestamp"),
        ("t=1,t=2,v1=abc", 0, "no timestamp"),
        ("", 0, "no timestamp"),
        (None, TOLERANCE_SECONDS + 1, f"more than {TOLERANCE_SECONDS} s"),  # an old capture
        (None, -TOLERANCE_SECONDS - 1, f"more than {TOLERANCE_SECONDS} s"),  # from the future
    ],
)
def test_a_forged_or_old_signature_is_refused(header: str | None, late: int, problem: str) -> None:
    body = b'{"event":"case.opened"}'
    given_header = header if header is not None else signature_header("whsec_1", 1000, body)
    found = signature_problem("whsec_1", given_header, body, now=1000 + late)
    assert found is not None
    assert problem in found


def test_a_header_with_a_second_v1_still_verifies() -> None:
    """A receiver keeps working while a secret is rolled: any v1 that matches will do."""
    body = b"{}"
    good = signature_header("new", 1000, body)
    assert signature_problem("new", f"{good},v1=deadbeef", body, now=1000) is None


def test_retries_back_off_then_stop() -> None:
    waits = [next_attempt_at(n, AT) for n in range(1, RETRY.max_attempts + 1)]
    assert waits[0] == AT + timedelta(seconds=30)
    assert waits[1] == AT + timedelta(seconds=90)
    assert waits[-1] is None
    assert all(w is not None for w in waits[:-1])


def test_an_excerpt_is_one_short_line() -> None:
    assert excerpt(b"<html>\n  error\n\n</html>") == "<html> error </html>"
    assert len(excerpt(b"x" * 5000)) == 200
    assert excerpt(b"\xff\xfeok") == "\ufffd\ufffdok"
