"""A store's own cues ([cues.<route>]): checked like every other key, merged over the built-in book."""

from __future__ import annotations

import pytest

from aftersales.adapters.files.packaged import builtin_cue_book
from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.routes import Route
from aftersales.domain.routing.cues import with_cues
from aftersales.domain.routing.router import score_routes
from aftersales.domain.text import normalise

STORE_CUE = '{ pattern = "\\\\bfrost (?:tumbler|mug)\\\\b", weight = 3, example = "The Frost tumbler came" }'


def _policy(cues: str) -> str:
    return default_policy_text() + "\n" + cues + "\n"


def test_a_store_cue_is_read_and_scores_its_route() -> None:
    policy = parse_policy(_policy(f"[cues.wrong_item]\npatterns = [{STORE_CUE}]"))
    book = with_cues(builtin_cue_book(), policy.custom_cues)

    scores, trace = score_routes(normalise("hello, a frost mug arrived", book.repair), book, ())

    assert [c.example for c in policy.custom_cues] == ["The Frost tumbler came"]
    assert scores[Route.WRONG_ITEM] == 3.0
    assert [(t.route, t.quote) for t in trace] == [(Route.WRONG_ITEM, "frost mug")]


def test_the_built_in_book_is_unchanged_without_store_cues() -> None:
    book = builtin_cue_book()
    assert with_cues(book, ()) is book


BROKEN = [
    pytest.param(
        f"[cues.wrong_itm]\npatterns = [{STORE_CUE}]",
        "cues.wrong_itm",
        "did you mean 'wrong_item'",
        id="route",
    ),
    pytest.param(
        '[cues.damaged_item]\npatterns = [{ pattern = "(dent", weight = 3, example = "a dent" }]',
        "cues.damaged_item.patterns[0].pattern",
        "bad pattern '(dent': missing ), unterminated subpattern",
        id="regex",
    ),
    pytest.param(
        '[cues.damaged_item]\npatterns = [{ pattern = "\\\\bdent\\\\b", weight = 9, example = "a dent" }]',
        "cues.damaged_item.patterns[0].weight",
        "must be a number from -12 to 4, not 0",
        id="weight-range",
    ),
    pytest.param(
        '[cues.damaged_item]\npatterns = [{ pattern = "\\\\bdent\\\\b", weight = 0, example = "a dent" }]',
        "cues.damaged_item.patterns[0].weight",
        "got 0",
        id="weight-zero",
    ),
    pytest.param(
        '[cues.damaged_item]\npatterns = [{ pattern = "\\\\bdent\\\\b", weight = 2, example = "scratched" }]',
        "cues.damaged_item.patterns[0].example",
        "the example 'scratched' does not match the pattern",
        id="example-does-not-match",
    ),
    pytest.param(
        '[cues.damaged_item]\npatterns = [{ pattern = "\\\\bdent\\\\b", weight = 2 }]',
        "cues.damaged_item.patterns[0].example",
        "is missing; it must be a non-empty string",
        id="example-missing",
    ),
    pytest.param(
        '[cues.damaged_item]\npatterns = [{ pattern = "{nope} dent", weight = 2, example = "a dent" }]',
        "cues.damaged_item.patterns[0].pattern",
        "unknown macro {nope}; allowed: {order}, {my}",
        id="macro",
    ),
    pytest.param(
        '[cues.damaged_item]\npattern = "dent"',
        "cues.damaged_item.pattern",
        "unknown key (did you mean 'patterns'?); allowed: patterns",
        id="table-key",
    ),
]


@pytest.mark.parametrize(("cues", "key", "fragment"), BROKEN)
def test_a_broken_store_cue_is_refused_with_its_line_and_what_is_allowed(
    cues: str, key: str, fragment: str
) -> None:
    text = _policy(cues)

    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.toml")

    (problem,) = caught.value.problems
    assert problem.key == key
    assert fragment in problem.message, problem.message
    assert problem.line is not None
    assert text.split("\n")[problem.line - 1].startswith(("[cues.", "patterns", "pattern"))
