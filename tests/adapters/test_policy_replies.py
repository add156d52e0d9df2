"""The policy file's [[saved_replies]] and [[faq]]: the defaults, and every broken entry
reported with its key, its line and the entry it is in."""

from __future__ import annotations

import pytest

from aftersales.adapters.policy.file import PolicyError, default_policy, default_policy_text, parse_policy
from aftersales.domain.routes import Route
from aftersales.domain.saved_replies import template_problems

DEFAULT = default_policy_text()


def _with(extra: str) -> str:
    return DEFAULT + "\n" + extra


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.toml")
    return [(p.line, p.key, p.message) for p in caught.value.problems]


def _line(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if fragment in line)


def test_the_default_ships_saved_replies_in_english_french_and_german() -> None:
    policy = default_policy()

    by_language = {(s.language, s.route) for s in policy.saved_replies}
    assert ("en", None) in by_language  # one for any route
    assert ("fr", Route.SHIPPING_DELAY) in by_language
    assert ("de", Route.SHIPPING_DELAY) in by_language
    assert all(template_problems(s.text) == [] for s in policy.saved_replies)
    assert {e.question for e in policy.faq} >= {"Are the tumblers dishwasher safe?", "Do you ship to Canada?"}


def test_a_saved_reply_defaults_to_any_route_and_the_store_s_language() -> None:
    text = _with('[[saved_replies]]\nname = "Thanks"\ntext = "Thank you, {first_name}!"\n')

    saved = parse_policy(text).saved_replies[-1]

    assert (saved.name, saved.route, saved.language, saved.route_name) == ("Thanks", None, "en", "any")


BROKEN = [
    pytest.param(
        '[[saved_replies]]\nname = "Tracking"\ntext = "Hello {frist_name}, about {order_number}"',
        'text = "Hello {frist_name}',
        "saved_replies[6].text",
        "the saved reply 'Tracking' uses the unknown variable {frist_name} (did you mean {first_name}?); "
        "the variables are: {first_name}, {order_number}, {last_scan}, {promised_time}, {lead}, "
        "{greeting}, {store_name}",
        id="an unknown variable names the entry",
    ),
    pytest.param(
        '[[saved_replies]]\nname = "Brace"\ntext = "Hello { first_name }"',
        'text = "Hello { first',
        "saved_replies[6].text",
        "the saved reply 'Brace' has a brace that is not a variable, near 'Hello { first_nam'; "
        "a variable is written {first_name} (no spaces); write {{ or }} for a literal brace",
        id="a stray brace",
    ),
    pytest.param(
        '[[saved_replies]]\nname = "Where"\ntext = "x"\nroute = "shipping"',
        'route = "shipping"',
        "saved_replies[6].route",
        "must be a route or 'any': pre_purchase, cancel_or_change, shipping_delay, refund_return, "
        "damaged_item, wrong_item, chargeback_risk, review, repeat_purchase, other, any, got 'shipping'",
        id="an unknown route",
    ),
    pytest.param(
        '[[saved_replies]]\nname = "still on it"\ntext = "x"',
        'name = "still on it"',
        "saved_replies[6].name",
        "repeats the name 'still on it' of saved_replies[3]; each saved reply needs its own name "
        "(the composer lists them by name)",
        id="a name twice",
    ),
    pytest.param(
        '[[saved_replies]]\nname = "Lang"\ntext = "x"\nlanguage = "French"',
        'language = "French"',
        "saved_replies[6].language",
        "must be a two-letter ISO 639-1 language code in lower case, e.g. 'en', 'fr' or 'de', got 'French'",
        id="a language that is not a code",
    ),
    pytest.param(
        '[[saved_replies]]\nname = "Extra"\ntext = "x"\nsubject = "Hi"',
        'subject = "Hi"',
        "saved_replies[6].subject",
        "unknown key; allowed: name, route, language, text",
        id="an unknown key",
    ),
    pytest.param(
        '[[faq]]\nquestion = "Is it?"\nanswer = "Yes."',
        'question = "Is it?"',
        "faq[5].question",
        "has no word to match a customer's message on (only words like 'is', 'do', 'the'); "
        'add keywords, e.g. keywords = ["dishwasher", "safe"]',
        id="a question with nothing to match on",
    ),
    pytest.param(
        '[[faq]]\nquestion = "Lids?"\nanswer = ""',
        'answer = ""',
        "faq[5].answer",
        "must be a non-empty string, got ''",
        id="an empty answer",
    ),
]


@pytest.mark.parametrize(("extra", "at", "key", "message"), BROKEN)
def test_a_broken_entry_is_reported_with_its_key_line_and_entry(
    extra: str, at: str, key: str, message: str
) -> None:
    text = _with(extra)

    assert _problems(text) == [(_line(text, at), key, message)]


def test_saved_replies_must_be_an_array_of_tables() -> None:
    without = DEFAULT[: DEFAULT.index("# Saved replies:")]
    text = without.replace("schema = 1", 'schema = 1\nsaved_replies = "Thanks!"', 1)

    (problem,) = _problems(text)

    assert problem[1:] == (
        "saved_replies",
        "must be an array of tables [[saved_replies]], each with name, text and optional route "
        "(default \"any\") and language (default [store] language), got 'Thanks!'",
    )
