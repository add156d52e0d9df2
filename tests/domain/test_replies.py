"""Reply checks and template rendering: drafts in, failing checks (with their sentence) out."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.domain.policy import Interval
from aftersales.domain.replies import PREMATURE_PROMISE, ReplyCheck, check_reply, render_reply, sentences
from aftersales.domain.sla.calendar import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar(NEW_YORK, dict.fromkeys(range(5), (Interval(time(9), time(17)),)))
NOW = datetime(2026, 11, 18, 10, tzinfo=NEW_YORK)  # a Wednesday morning


def check_reply_now(draft: str, **options: Any) -> ReplyCheck:
    """``check_reply`` on Wednesday 18 November 2026, 10:00 in a Monday-Friday 9-17 office."""
    return check_reply(draft, now=NOW, calendar=OFFICE, **options)


STOP_LINE = "Collect proof first: no refund, no reship and no rejection yet."
# (check, the sentence it names); "" names the whole reply
Problems = list[tuple[str, str]]


def _problems(check: ReplyCheck) -> Problems:
    return [(p.check, p.sentence) for p in check.problems]


GOOD_DRAFTS = [
    pytest.param("We will update you by Tuesday 12:00.", id="one sentence with the step and its time"),
    pytest.param(
        "I'm sorry the parcel is late. We have asked the carrier to trace it and will write again by Friday 3pm.",
        id="apology, action and time",
    ),
    pytest.param(
        "Hello,\nYour parcel left our warehouse on Monday and the carrier shows it in Memphis. "
        "We opened a check with them and will update you by Wednesday 11:00, whatever the answer. "
        "Tracking: https://track.example.com/1Z879E930346834440\nBest, Support",
        id="a link with the scan, the check and the next update",
    ),
    pytest.param(
        "Thanks for the photos. We'll confirm the replacement within 4 business hours.",
        id="within N business hours",
    ),
    pytest.param("Expect our answer tomorrow.", id="expect ... tomorrow"),
]


@pytest.mark.parametrize("draft", GOOD_DRAFTS)
@pytest.mark.parametrize("stop_line_clear", [False, True], ids=["stop line held", "stop line clear"])
def test_good_drafts_pass(draft: str, stop_line_clear: bool) -> None:
    check = check_reply_now(draft, stop_line_clear=stop_line_clear, stop_line=STOP_LINE)

    assert _problems(check) == []
    assert check.ok is True


BAD_DRAFTS = [
    pytest.param(
        "Thanks for writing. We are looking into it.",
        [("no_next_step_time", "")],
        id="no time at all",
    ),
    pytest.param(
        "We will look into it as soon as possible.",
        [("no_next_step_time", "")],
        id="a step without a time",
    ),
    pytest.param(
        "Tomorrow is a public holiday.",
        [("no_next_step_time", "")],
        id="a time without a step",
    ),
    pytest.param(
        "That's not our fault, the courier lost it. We will update you tomorrow.",
        [("defensive_wording", "That's not our fault, the courier lost it.")],
        id="not our fault",
    ),
    pytest.param(
        "As stated in our policy, returns close after 30 days. We will reply by Monday.",
        [("defensive_wording", "As stated in our policy, returns close after 30 days.")],
        id="pointing at the policy",
    ),
    pytest.param(
        "You should have read the size chart! We will reply by Monday.",
        [("defensive_wording", "You should have read the size chart!")],
        id="you should have",
    ),
    pytest.param(
        "Please calm down. I'll update you within 2 hours.",
        [("defensive_wording", "Please calm down.")],
        id="calm down",
    ),
    pytest.param(
        "We're not responsible for customs. Per our policy you pay the duties. We will write by noon.",
        [
            ("defensive_wording", "We're not responsible for customs."),
            ("defensive_wording", "Per our policy you pay the duties."),
        ],
        id="two defensive sentences, each named",
    ),
    pytest.param(
        "We will refund you today.",
        [("premature_promise", "We will refund you today.")],
        id="we will refund",
    ),
    pytest.param(
        "Good news. Your refund has been issued. We will confirm by email tomorrow.",
        [("premature_promise", "Your refund has been issued.")],
        id="refund has been issued",
    ),
    pytest.param(
        "We'll send you a replacement by Friday.",
        [("premature_promise", "We'll send you a replacement by Friday.")],
        id="we'll send a replacement",
    ),
    pytest.param(
        "Here is your tracking: https://track.example.com/1Z879E930346834440",
        [
            ("no_next_step_time", ""),
            ("tracking_link_only", "Here is your tracking: https://track.example.com/1Z879E930346834440"),
        ],
        id="a bare tracking link",
    ),
    pytest.param(
        "Hi,\ntracking link: https://t.example.com/x\nThanks, Support",
        [
            ("no_next_step_time", ""),
            ("tracking_link_only", "Hi,\ntracking link: https://t.example.com/x\nThanks, Support"),
        ],
        id="a link between a greeting and a sign-off",
    ),
    pytest.param(
        "Calm down. We'll refund it. Track it at www.example.com/t",
        [
            ("no_next_step_time", ""),
            ("defensive_wording", "Calm down."),
            ("premature_promise", "We'll refund it."),
            ("tracking_link_only", "Calm down. We'll refund it. Track it at www.example.com/t"),
        ],
        id="four problems at once, in check order",
    ),
]


@pytest.mark.parametrize(("draft", "expected"), BAD_DRAFTS)
def test_bad_drafts_name_the_failing_check_and_sentence(draft: str, expected: Problems) -> None:
    check = check_reply_now(draft, stop_line_clear=False, stop_line=STOP_LINE)

    assert _problems(check) == expected
    assert check.ok is False


PROMISES = [
    pytest.param("We will refund you today.", id="we will refund"),
    pytest.param("I'll reship it tomorrow.", id="i'll reship"),
    pytest.param("We have already refunded the order; you will hear from us by Friday.", id="have refunded"),
    pytest.param(
        "Your replacement is on its way. We will update you by Monday.", id="replacement on its way"
    ),
]


@pytest.mark.parametrize("draft", PROMISES)
def test_a_promise_is_premature_only_while_the_stop_line_holds(draft: str) -> None:
    held = check_reply_now(draft, stop_line_clear=False, stop_line=STOP_LINE)
    clear = check_reply_now(draft, stop_line_clear=True, stop_line=STOP_LINE)

    assert [p.check for p in held.problems] == ["premature_promise"]
    assert _problems(clear) == []


def test_a_premature_promise_fix_quotes_the_stop_line() -> None:
    (problem,) = check_reply_now(
        "We will refund you today.", stop_line_clear=False, stop_line=STOP_LINE
    ).problems

    assert problem.fix == (
        "Promise the review and its time, not the outcome, until the evidence is in. "
        "Stop line: Collect proof first: no refund, no reship and no rejection yet."
    )


def test_without_a_stop_line_the_fix_names_none() -> None:
    (problem,) = check_reply_now("We will refund you today.", stop_line_clear=False).problems

    assert problem.fix == "Promise the review and its time, not the outcome, until the evidence is in."


@pytest.mark.parametrize("draft", ["", "   ", "\n\n"], ids=["empty", "spaces", "newlines"])
def test_an_empty_draft_only_lacks_the_next_step(draft: str) -> None:
    assert _problems(check_reply_now(draft, stop_line_clear=False)) == [("no_next_step_time", "")]


def test_sentences_split_on_end_marks_and_lines() -> None:
    assert sentences("Hi!  Where is it?\nThanks.\n\nBye") == ["Hi!", "Where is it?", "Thanks.", "Bye"]


# --------------------------------------------------------------------------- render_reply

RENDERS = [
    pytest.param("Hello {name}, {next}.", {"name": "Ann", "next": "soon"}, "Hello Ann, soon.", id="fills"),
    pytest.param("Hi {name}, {unknown}.", {"name": "Ann"}, "Hi Ann, {unknown}.", id="unknown stays"),
    pytest.param("{a.b} {name}", {"name": "Ann"}, "{a.b} Ann", id="unknown with attribute stays"),
    pytest.param("{a[1]} {name}", {"name": "Ann"}, "{a[1]} Ann", id="unknown with index stays"),
    pytest.param("{x!r} {y:>5}", {}, "{x!r} {y:>5}", id="unknown with conversion or spec stays"),
    pytest.param("{name.upper}", {"name": "Ann"}, "{name.upper}", id="no attribute access on values"),
    pytest.param("Hi {name}, 100% {", {"name": "Ann"}, "Hi Ann, 100% {", id="stray opening brace"),
    pytest.param("Hi {name} }", {"name": "Ann"}, "Hi Ann }", id="stray closing brace"),
    pytest.param("{0} {} {name}", {"name": "Ann"}, "{0} {} Ann", id="positional fields stay"),
    pytest.param("{{literal}} {name}", {"name": "Ann"}, "{literal} Ann", id="doubled braces are literal"),
    pytest.param(
        "  {greeting}  \n\n  Your   order {ref} .  \n",
        {"greeting": "Hello,", "ref": "#1043"},
        "Hello,\n\nYour order #1043 .",
        id="squeezes spaces and trims lines",
    ),
    pytest.param("{empty}", {"empty": ""}, "", id="an empty value"),
]


@pytest.mark.parametrize(("template", "values", "expected"), RENDERS)
def test_render_reply(template: str, values: dict[str, str], expected: str) -> None:
    assert render_reply(template, values) == expected


def test_a_value_is_not_itself_a_template() -> None:
    assert render_reply("Hi {name}", {"name": "{secret}", "secret": "x"}) == "Hi {secret}"


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.text(), st.booleans(), st.text(max_size=40))
def test_check_reply_never_raises_and_names_sentences_of_the_draft(
    draft: str, stop_line_clear: bool, stop_line: str
) -> None:
    check = check_reply_now(draft, stop_line_clear=stop_line_clear, stop_line=stop_line)

    for problem in check.problems:
        assert problem.check in {
            "no_next_step_time",
            "past_time",
            "closed_time",
            "impossible_date",
            "impossible_time",
            "weekday_mismatch",
            "moveable_holiday",
            "defensive_wording",
            "premature_promise",
            "tracking_link_only",
        }
        assert problem.sentence in draft or problem.sentence == draft.strip()
        if problem.check == "premature_promise":
            assert not stop_line_clear


_TEMPLATE_PIECES = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["{", "}", "{{", "}}", "{name}", "{x", "x}", "{0}", "{a.b}", "{a[", "{!r}", "{:>"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEMPLATE_PIECES, max_size=10).map("".join))
def test_render_reply_never_raises(template: str) -> None:
    assert isinstance(render_reply(template, {"name": "Ann"}), str)


_PROMISE_PIECES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        [" ", "\n", ". ", "!\n", "?  ", "\u2028", "_", "x", "We", "we", "I", "'ll", " will", "'ve"]
    ),
    st.sampled_from([" refund", " now ", "refunded", " send you a new", " issue a full refund", "Refunds"]),
    st.sampled_from([" has been", " is being", " issued", " on its way", "replacement", "reship", "\u0130"]),
    st.sampled_from(
        ["We'll refund", "I will reship", "we have refunded", "refund has been issued", "we are going to"]
    ),
)


@settings(max_examples=1_000, deadline=None)
@given(st.lists(_PROMISE_PIECES, max_size=14).map("".join))
def test_a_premature_promise_is_found_in_the_sentences_it_is_in(draft: str) -> None:
    # check_reply searches the whole draft before its sentences: that must change nothing
    in_sentences = [s for s in sentences(draft) if PREMATURE_PROMISE.search(s)]
    problems = check_reply_now(draft, stop_line_clear=False).problems
    assert [p.sentence for p in problems if p.check == "premature_promise"] == in_sentences
