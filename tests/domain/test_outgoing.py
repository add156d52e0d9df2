"""Outgoing mail: loop protection (RFC 3834), threading headers (RFC 5322 §3.6.4), subjects
and the acknowledgement's first-response promise, as tables of cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.adapters.mail.screen import case_hint_of
from aftersales.adapters.policy.file import default_policy
from aftersales.domain.messages import AutoKind, Channel, InboundMessage
from aftersales.domain.outgoing import (
    REFERENCES_KEPT,
    Parent,
    acknowledgement_lateness,
    acknowledgement_refusal,
    acknowledgement_text,
    business_hours_text,
    can_receive_mail,
    mail_domain,
    new_message_id,
    reply_subject,
    thread_headers,
)
from aftersales.domain.policy import Interval

POLICY = default_policy()  # Northwind Tumblers, America/New_York
OWN = {"support@northwind.example"}
NY = ZoneInfo("America/New_York")


def _mail(sender: str = "ana@example.com", *headers: tuple[str, str], **fields: object) -> InboundMessage:
    message = InboundMessage(
        message_id="m1@example.com",
        dedupe_key="m1@example.com|0",
        channel=Channel.EMAIL,
        from_address=sender,
        from_name="Ana",
        to_addresses=("support@northwind.example",),
        subject="Where is my order?",
        sent_at=datetime(2026, 11, 24, 15, tzinfo=UTC),
        body="Where is order 1043?",
        full_body="Where is order 1043?",
        html="",
        raw_headers=headers,
    )
    return replace(message, **fields)  # type: ignore[arg-type]


REFUSED = [
    pytest.param(
        _mail(auto_kind=AutoKind.AUTO_REPLY), False, "screened as auto_reply", id="screened auto-reply"
    ),
    pytest.param(
        _mail(auto_kind=AutoKind.MAILING_LIST), False, "screened as mailing_list", id="screened list"
    ),
    pytest.param(_mail(auto_kind=AutoKind.OWN_MAIL), False, "screened as own_mail", id="screened own mail"),
    pytest.param(_mail(""), False, "the message has no sender address", id="empty sender"),
    pytest.param(
        _mail("Support@Northwind.example"),
        False,
        "support@northwind.example is our own address",
        id="our own address",
    ),
    pytest.param(
        _mail("mailer-daemon@mx.example.com"),
        False,
        "mailer-daemon@mx.example.com is an automatic sender",
        id="bounce",
    ),
    pytest.param(
        _mail("postmaster@example.com"),
        False,
        "postmaster@example.com is an automatic sender",
        id="postmaster",
    ),
    pytest.param(
        _mail("no-reply@shop.example"), False, "no-reply@shop.example is an automatic sender", id="no-reply"
    ),
    pytest.param(
        _mail("noreply@shop.example"), False, "noreply@shop.example is an automatic sender", id="noreply"
    ),
    pytest.param(
        _mail("ana@example.com", ("Auto-Submitted", "auto-replied")),
        False,
        "Auto-Submitted: auto-replied",
        id="Auto-Submitted auto-replied",
    ),
    pytest.param(
        _mail("ana@example.com", ("auto-submitted", "Auto-Generated; owner-email=x@example.com")),
        False,
        "Auto-Submitted: auto-generated",
        id="Auto-Submitted with a parameter",
    ),
    pytest.param(
        _mail("ana@example.com", ("List-Id", "<news.example.com>")),
        False,
        "list mail (list-id)",
        id="List-Id",
    ),
    pytest.param(
        _mail("ana@example.com", ("List-Unsubscribe", "<mailto:u@example.com>")),
        False,
        "list mail (list-unsubscribe)",
        id="List-Unsubscribe",
    ),
    pytest.param(
        _mail("ana@example.com", ("Precedence", "bulk")), False, "Precedence: bulk", id="Precedence bulk"
    ),
    pytest.param(
        _mail("ana@example.com", ("Precedence", "list")), False, "Precedence: list", id="Precedence list"
    ),
    pytest.param(
        _mail("ana@example.com", ("Precedence", "junk")), False, "Precedence: junk", id="Precedence junk"
    ),
    pytest.param(
        _mail("ana@example.com", ("Return-Path", "<>")),
        False,
        "an empty return path (a bounce)",
        id="null return path",
    ),
    pytest.param(
        _mail(),
        True,
        "ana@example.com got an acknowledgement in the last 24 hours",
        id="acknowledged within 24 h",
    ),
]


@pytest.mark.parametrize(("message", "recently", "reason"), REFUSED)
def test_loop_protection_refuses_automatic_list_own_and_repeated_mail(
    message: InboundMessage, recently: bool, reason: str
) -> None:
    assert acknowledgement_refusal(message, OWN, recently_acknowledged=recently) == reason


ANSWERED = [
    pytest.param(_mail(), id="a person's mail"),
    pytest.param(_mail("ana@example.com", ("Auto-Submitted", "no")), id="Auto-Submitted: no"),
    pytest.param(_mail("ana@example.com", ("Precedence", "first-class")), id="another Precedence"),
    pytest.param(_mail("replyto@example.com"), id="a local part that only contains 'reply'"),
]


@pytest.mark.parametrize("message", ANSWERED)
def test_a_person_writing_to_the_desk_gets_an_acknowledgement(message: InboundMessage) -> None:
    assert acknowledgement_refusal(message, OWN, recently_acknowledged=False) is None


THREADS = [
    pytest.param(Parent("a@x"), ("a@x", ("a@x",)), id="first message: references are its id"),
    pytest.param(
        Parent("b@x", "a@x"), ("b@x", ("a@x", "b@x")), id="no References: its In-Reply-To stands in"
    ),
    pytest.param(
        Parent("c@x", "b@x", ("a@x", "b@x")),
        ("c@x", ("a@x", "b@x", "c@x")),
        id="References then the parent's id",
    ),
    pytest.param(Parent("c@x", "", ("a@x", "c@x")), ("c@x", ("a@x", "c@x")), id="an id is never repeated"),
    pytest.param(Parent(""), ("", ()), id="no Message-ID: nothing to thread under"),
]


@pytest.mark.parametrize(("parent", "expected"), THREADS)
def test_thread_headers_follow_rfc_5322(parent: Parent, expected: tuple[str, tuple[str, ...]]) -> None:
    assert thread_headers(parent) == expected


def test_long_references_keep_the_root_and_the_latest_ids() -> None:
    chain = tuple(f"{n}@x" for n in range(50))
    in_reply_to, references = thread_headers(Parent("50@x", "49@x", chain))
    assert in_reply_to == "50@x"
    assert len(references) == REFERENCES_KEPT
    assert references[0] == "0@x"
    assert references[-2:] == ("49@x", "50@x")


def test_an_inbound_message_threads_too() -> None:
    assert thread_headers(_mail(references=("r@x",), in_reply_to="r@x")) == (
        "m1@example.com",
        ("r@x", "m1@example.com"),
    )


SUBJECTS = [
    pytest.param("Where is my order?", "Re: Where is my order? [case 42]", id="plain subject"),
    pytest.param("Re: RE: Where is my order?", "Re: Where is my order? [case 42]", id="one Re: only"),
    pytest.param("AW: Wo ist meine Bestellung?", "Re: Wo ist meine Bestellung? [case 42]", id="German AW:"),
    pytest.param("Re[2]: order [case 42]", "Re: order [case 42]", id="an old tag is not doubled"),
    pytest.param("Re: order [Case #7]", "Re: order [case 42]", id="another case's tag is replaced"),
    pytest.param("[case [case 1]5] x", "Re: x [case 42]", id="nested tags are all removed"),
    pytest.param("", "Re: your message [case 42]", id="no subject"),
    pytest.param(
        "Where is\nmy  order", "Re: Where is my order [case 42]", id="a subject from the body's lines"
    ),
    pytest.param("x" * 300, f"Re: {'x' * 200}… [case 42]", id="a long subject is cut, the tag kept"),
]


@pytest.mark.parametrize(("subject", "expected"), SUBJECTS)
def test_reply_subject_has_one_re_and_the_case_tag(subject: str, expected: str) -> None:
    assert reply_subject(subject, 42) == expected


@given(st.text(max_size=80))
def test_intake_reads_the_case_back_from_any_reply_subject(subject: str) -> None:
    made = reply_subject(subject, 42)
    assert case_hint_of(made) == "42"
    assert "\n" not in made
    assert "\r" not in made


IDS = [
    pytest.param("northwind.example", "reply-abc", "reply-abc@northwind.example", id="plain"),
    pytest.param("Northwind.Example", "a b<c>", "a-b-c-@northwind.example", id="unsafe characters replaced"),
    pytest.param("", "x", "x@aftersales.invalid", id="no domain"),
]


@pytest.mark.parametrize(("domain", "unique", "expected"), IDS)
def test_new_message_id(domain: str, unique: str, expected: str) -> None:
    assert new_message_id(domain, unique) == expected


@pytest.mark.parametrize(
    ("address", "domain", "mailable"),
    [
        ("support@northwind.example", "northwind.example", True),
        ("help@Shop.Example", "shop.example", True),
        ("unknown@invalid", "invalid", False),
        ("ana@review.aftersales.invalid", "review.aftersales.invalid", False),
        ("", "aftersales.invalid", False),
    ],
)
def test_addresses(address: str, domain: str, mailable: bool) -> None:
    assert (mail_domain(address), can_receive_mail(address)) == (domain, mailable)


def test_business_hours_are_summarised_by_runs_of_equal_days() -> None:
    nine_to_five = (Interval(time(9), time(17)),)
    weekly = {0: nine_to_five, 1: nine_to_five, 2: nine_to_five, 3: nine_to_five, 4: nine_to_five}
    assert business_hours_text(weekly) == "Mon–Fri 9:00–17:00"
    assert business_hours_text({6: (Interval(time(0), time(0)),)}) == "Sun 0:00–24:00"
    assert business_hours_text({}) == ""


def test_the_acknowledgement_states_the_first_response_time_in_business_hours() -> None:
    due = datetime(2026, 12, 1, 16, tzinfo=UTC)  # 11:00 in New York

    text = acknowledgement_text(POLICY, 42, due, "Ana")

    assert text.startswith("Hello Ana,")
    assert "it is case 42" in text
    assert (
        "We will reply by Tuesday 1 December, 11:00 (America/New_York), within our business hours "
        "Mon–Thu 9:00–12:00 and 13:00–17:00, Fri 9:00–12:00 and 13:00–16:00, Sat 10:00–13:00."
    ) in text
    assert "[case 42]" in text
    assert text.endswith(POLICY.store_name)


def test_without_a_running_clock_the_acknowledgement_promises_no_time() -> None:
    text = acknowledgement_text(POLICY, 7, None)
    assert text.startswith("Hello,")
    assert "We will reply as soon as we can, within our business hours Mon–Thu" in text


def test_a_store_without_opening_hours_names_no_hours() -> None:
    always_closed = replace(POLICY, business_hours={})
    due = datetime(2026, 12, 1, 16, tzinfo=UTC)

    assert "We will reply by Tuesday 1 December, 11:00 (America/New_York).\n" in acknowledgement_text(
        always_closed, 1, due
    )
    assert "We will reply as soon as we can.\n" in acknowledgement_text(always_closed, 1, None)


SENT = datetime(2026, 11, 24, 15, tzinfo=UTC)
LATENESS = [
    pytest.param(
        SENT + timedelta(minutes=1), SENT + timedelta(hours=20), None, id="fresh mail, answer ahead"
    ),
    pytest.param(SENT + timedelta(hours=24), None, None, id="a day old exactly, no clock"),
    pytest.param(
        SENT + timedelta(hours=25),
        SENT + timedelta(hours=30),
        "the message was sent 2026-11-24T15:00:00+00:00, too long ago for a receipt",
        id="backfilled mail",
    ),
    pytest.param(
        SENT + timedelta(hours=2),
        SENT + timedelta(hours=2),
        "the first answer was due 2026-11-24T17:00:00+00:00",
        id="first answer already due",
    ),
]


@pytest.mark.parametrize(("now", "due", "reason"), LATENESS)
def test_a_receipt_that_would_come_too_late_is_not_sent(
    now: datetime, due: datetime | None, reason: str | None
) -> None:
    assert acknowledgement_lateness(SENT, due, now) == reason
