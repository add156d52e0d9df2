"""The [reader] section of the policy file: optional, every key checked, problems by line."""

from __future__ import annotations

import pytest

from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.policy import ReaderPolicy

DEFAULT = default_policy_text()
SECTION = DEFAULT[DEFAULT.index("[reader]") : DEFAULT.index("semantic = true")] + "semantic = true"


def with_reader(body: str) -> str:
    return DEFAULT.replace(SECTION, "[reader]\n" + body, 1)


def test_the_default_reads_when_unsure_masks_and_waits_ten_seconds() -> None:
    assert parse_policy(DEFAULT).reader == ReaderPolicy(
        use="when_unsure", timeout_seconds=10.0, redact=True, per_minute=30, semantic=True
    )
    assert parse_policy(with_reader("")).reader == ReaderPolicy()


def test_a_store_sets_each_key() -> None:
    text = with_reader(
        'use = "always"\ntimeout_seconds = 2.5\nredact = false\nper_minute = 5\nsemantic = false\n'
    )
    assert parse_policy(text).reader == ReaderPolicy(
        use="always", timeout_seconds=2.5, redact=False, per_minute=5, semantic=False
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('use = "sometimes"', "reader.use: must be 'when_unsure', 'always' or 'never', got 'sometimes'"),
        (
            "timeout_seconds = 0",
            "reader.timeout_seconds: must be a number of seconds greater than 0 and at most 300, got 0",
        ),
        ('redact = "yes"', "reader.redact: must be true or false, got 'yes'"),
        (
            "per_minute = 0",
            "reader.per_minute: must be a whole number of requests a minute, 1 or more, got 0",
        ),
        ("semantic = 1", "reader.semantic: must be true or false, got 1"),
        (
            "retries = 3",
            "reader.retries: unknown key; allowed: use, timeout_seconds, redact, per_minute, semantic",
        ),
    ],
)
def test_a_wrong_value_is_reported_with_its_line_and_what_is_allowed(body: str, problem: str) -> None:
    text = with_reader(body + "\n")
    line = text.split("\n").index(body) + 1
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.toml")
    assert [str(p) for p in caught.value.problems] == [f"policy.toml:{line}: {problem}"]


def test_reader_that_is_not_a_table_is_reported() -> None:
    text = DEFAULT.replace(SECTION, "", 1).replace("schema = 1", 'schema = 1\nreader = "llm"', 1)
    with pytest.raises(PolicyError, match="reader: must be a \\[reader\\] table, got 'llm'"):
        parse_policy(text, "policy.toml")
