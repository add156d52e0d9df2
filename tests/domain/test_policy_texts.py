"""Policy texts: a canonical hash, kinds carried over, empty texts refused, and warnings when a
return policy does not say how long, who pays return shipping or what proof is needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.errors import InputError
from aftersales.domain.policy_texts import (
    PolicyKind,
    PolicyTexts,
    checked_text,
    return_policy_warnings,
)

RETURNS = (
    "Returns are accepted within 30 days of delivery. The buyer pays return shipping. "
    "Include your order number; items must be unused and in their original packaging."
)
WINDOW, WHO_PAYS, PROOF = (
    'the return policy does not state the return window (e.g. "within 30 days of delivery")',
    'the return policy does not state who pays return shipping (e.g. "the buyer pays return shipping")',
    'the return policy does not state the proof required (e.g. "order number and photos; unused, '
    'in original packaging")',
)


def _texts(**texts: str) -> PolicyTexts:
    return PolicyTexts().with_changes({PolicyKind(kind.rstrip("_")): text for kind, text in texts.items()})


def test_the_hash_ignores_line_endings_and_surrounding_blank_lines() -> None:
    unix = _texts(return_="Line one\nLine two", refund="Refunds in 5 days.")
    windows = _texts(refund="\n\nRefunds in 5 days.\r\n", return_="\ufeffLine one\r\nLine two\r\n")

    assert unix.sha256 == windows.sha256
    assert unix.sha256 != _texts(return_="Line one\nLine 2", refund="Refunds in 5 days.").sha256
    assert len(unix.sha256) == 64


def test_kinds_not_changed_carry_over() -> None:
    first = _texts(refund="Refund A", return_="Return A", shipping="Ship A")

    second = first.with_changes({PolicyKind.SHIPPING: "Ship B"})

    assert second.texts == {
        PolicyKind.REFUND: "Refund A",
        PolicyKind.RETURN: "Return A",
        PolicyKind.SHIPPING: "Ship B",
    }


@pytest.mark.parametrize("text", ["", "   \n\r\n\t", "\ufeff"])
def test_an_empty_text_is_refused_naming_the_file(text: str) -> None:
    with pytest.raises(InputError, match="the return policy text is empty") as raised:
        checked_text(PolicyKind.RETURN, text, "returns.md")

    assert raised.value.where == "returns.md"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(RETURNS, (), id="states_all_three"),
        pytest.param(
            "<p>Send it back within <b>fourteen days</b>.</p><p>We provide a prepaid label. "
            "Photos of the item, please.</p>",
            (),
            id="html_with_words_for_numbers",
        ),
        pytest.param(
            "We take returns. The buyer pays return shipping; keep your receipt.", (WINDOW,), id="no_window"
        ),
        pytest.param("Returns within 30 days; bring the receipt.", (WHO_PAYS,), id="no_payer"),
        pytest.param("Returns within 2 weeks, free returns.", (PROOF,), id="no_proof"),
        pytest.param("We love our customers.", (WINDOW, WHO_PAYS, PROOF), id="states_nothing"),
    ],
)
def test_return_policy_warnings(text: str, expected: tuple[str, ...]) -> None:
    assert return_policy_warnings(text) == expected


_TEXT = st.text(min_size=1, max_size=30)


@given(st.dictionaries(st.sampled_from(list(PolicyKind)), _TEXT, min_size=1))
def test_the_hash_does_not_depend_on_the_order_kinds_are_given(texts: dict[PolicyKind, str]) -> None:
    try:
        forward = PolicyTexts().with_changes(texts)
    except InputError:
        return  # a text of only blank space
    backward = PolicyTexts().with_changes(dict(reversed(list(texts.items()))))

    assert forward.sha256 == backward.sha256
    assert forward.with_changes(forward.texts) == forward
