"""The language model's prompt and the checks of its answer (domain/reader_prompt.py)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.orders import OrderFacts
from aftersales.domain.reader_prompt import (
    BadAnswer,
    answer_content,
    cache_key,
    read_answer,
    system_prompt,
)
from aftersales.domain.reading import MessageToRead, Quote, ReadingExample
from aftersales.domain.redaction import redact
from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit

ROUTES = list(Route)
TEXT = "Tracking still says label created, write to ana@example.com. Where is my order #1043?"


def answer(**fields: Any) -> str:
    base = {
        "route": "shipping_delay",
        "secondary_routes": [],
        "flags": [],
        "quotes": [],
        "language": "en",
        "order_refs": [],
        "confidence": 0.8,
        "reason": "tracking has not moved",
    }
    return json.dumps(base | fields)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{route: shipping", "the answer is not JSON"),
        ("[1, 2]", "the answer is JSON but not an object"),
        (answer(route="lost_parcel"), "route 'lost_parcel' is not in the route table"),
        (answer(secondary_routes=["refund"]), "secondary_routes 'refund' is not in the route table"),
        (answer(flags=["furious"]), "flags outside the flag list: furious"),
        (answer(quotes=["I want my money back"]), "the quote 'I want my money back' is not in the message"),
        (answer(quotes="label created"), "quotes must be a list of strings"),
        (answer(confidence="high"), "confidence must be a number"),
    ],
)
def test_an_answer_that_is_not_a_valid_reading_says_why(content: str, problem: str) -> None:
    with pytest.raises(BadAnswer, match="^" + problem.replace("[", r"\[").replace("(", r"\(")):
        read_answer(content, ROUTES, redact(TEXT))


def test_a_valid_answer_is_a_reading_placed_on_the_original_text() -> None:
    content = (
        "```json\n"
        + answer(
            secondary_routes=["shipping_delay", "refund_return"],
            quotes=["label created", "where is my order"],
            flags=["angry"],
            order_refs=["#1043", "#9999"],
            confidence=1.7,
            language="EN",
        )
        + "\n```"
    )
    reading = read_answer(content, ROUTES, redact(TEXT))
    assert reading.route is Route.SHIPPING_DELAY
    assert reading.secondary == (Route.REFUND_RETURN,)
    assert reading.quotes == (
        Quote("label created", TEXT.index("label created"), TEXT.index("label created") + 13),
        Quote("where is my order", TEXT.index("Where is"), TEXT.index("Where is") + 17),
    )
    assert (reading.flags, reading.order_refs, reading.confidence, reading.language) == (
        frozenset({"angry"}),
        ("#1043",),
        1.0,
        "en",
    )
    assert (reading.read_by, reading.note) == ("llm", "tracking has not moved")


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["shipping_delay", "angry"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(list(json.loads(answer()))), inner)
    ),
    max_leaves=12,
)


@given(st.text(max_size=200) | _json.map(json.dumps))
def test_no_answer_makes_the_checks_raise_anything_but_bad_answer(content: str) -> None:
    with contextlib.suppress(BadAnswer):
        read_answer(content, ROUTES, redact(TEXT))


@pytest.mark.parametrize("body", [{}, {"choices": []}, {"choices": [{"message": {"content": None}}]}, [1]])
def test_a_body_that_is_not_a_chat_completion_is_a_bad_answer(body: object) -> None:
    with pytest.raises(BadAnswer):
        answer_content(body)


def test_the_prompt_lists_the_routes_and_the_store_s_own_corrected_messages(kit: RoutingKit) -> None:
    examples = [ReadingExample(f"message {n}", Route.REVIEW) for n in range(12)]
    prompt = system_prompt(kit.specs, examples)
    assert all(f"- {r.value}: {s.title}." in prompt for r, s in kit.specs.items())
    assert '"message 11" -> review' in prompt
    assert '"message 3" -> review' not in prompt  # the newest eight only


def test_the_cache_key_changes_with_the_message_the_examples_and_the_model(kit: RoutingKit) -> None:
    def key(
        text: str, examples: list[ReadingExample], model: str = "m", order: OrderFacts | None = None
    ) -> str:
        return cache_key(
            model, system_prompt(kit.specs, examples), MessageToRead(text=text, order=order), text
        )

    one = [ReadingExample("late", Route.SHIPPING_DELAY)]
    assert key("a", []) == key("a", []) == key("a", [], order=OrderFacts(number="1043"))
    assert len({key("a", []), key("b", []), key("a", one), key("a", [], "other")}) == 4


@pytest.mark.parametrize(
    "content",
    [
        '{"route": "review"}',
        'Here is the reading: {"route": "review", "flags": null}',
        '```\n{"route": "review"}\n```',
        '{"route": " Review "}',
    ],
)
def test_a_minimal_or_wrapped_answer_is_still_a_reading(content: str) -> None:
    reading = read_answer(content, ROUTES, redact(TEXT))
    assert (reading.route, reading.flags, reading.quotes, reading.confidence) == (
        Route.REVIEW,
        frozenset(),
        (),
        0.5,
    )
