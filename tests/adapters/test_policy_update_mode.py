"""The policy chooses how the next-update clock runs."""

from __future__ import annotations

import pytest

from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy

DEFAULT_LINE = 'update_mode = "between_replies"'


def _with_mode(value: str) -> str:
    text = default_policy_text()
    assert DEFAULT_LINE in text
    return text.replace(DEFAULT_LINE, f"update_mode = {value}")


@pytest.mark.parametrize(
    ("value", "mode"),
    [('"between_replies"', "between_replies"), ('"after_customer"', "after_customer")],
)
def test_the_update_mode_is_read(value: str, mode: str) -> None:
    assert parse_policy(_with_mode(value), "policy.toml").update_mode == mode


def test_a_missing_update_mode_means_between_replies() -> None:
    text = "\n".join(
        line for line in default_policy_text().splitlines() if not line.startswith("update_mode")
    )
    assert parse_policy(text, "policy.toml").update_mode == "between_replies"


def test_an_unknown_update_mode_names_the_allowed_ones() -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(_with_mode('"hourly"'), "policy.toml")

    (problem,) = error.value.problems
    assert problem.key == "sla.update_mode"
    assert "'between_replies' or 'after_customer'" in problem.message
    lines = default_policy_text().splitlines()
    assert problem.line == next(n for n, line in enumerate(lines, 1) if line.startswith("update_mode"))
