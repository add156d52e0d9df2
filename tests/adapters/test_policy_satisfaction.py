"""The policy's [satisfaction] table: the survey is on by default, switchable, and a wrong value
is reported with its key and line (the file is not used)."""

from __future__ import annotations

import pytest

from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.policy import SurveyPolicy

SURVEY_LINE = "survey = true"
DAYS_LINE = "link_days = 14"


def _with(old: str, new: str) -> str:
    text = default_policy_text()
    assert old in text
    return text.replace(old, new)


def _without_table() -> str:
    lines = default_policy_text().splitlines()
    start = lines.index("[satisfaction]")
    end = next(n for n in range(start + 1, len(lines)) if lines[n].startswith("["))
    return "\n".join(lines[:start] + lines[end:])


@pytest.mark.parametrize(
    ("text", "survey"),
    [
        (default_policy_text(), SurveyPolicy()),
        (_without_table(), SurveyPolicy(survey=True, link_days=14)),
        (_with(SURVEY_LINE, "survey = false"), SurveyPolicy(survey=False)),
        (_with(DAYS_LINE, "link_days = 30"), SurveyPolicy(link_days=30)),
    ],
)
def test_the_survey_is_on_by_default_and_switchable(text: str, survey: SurveyPolicy) -> None:
    assert parse_policy(text, "policy.toml").satisfaction == survey


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (SURVEY_LINE, 'survey = "yes"', "satisfaction.survey"),
        (DAYS_LINE, "link_days = 0", "satisfaction.link_days"),
        (DAYS_LINE, "link_dayz = 14", "satisfaction.link_dayz"),
    ],
)
def test_a_wrong_value_names_its_key_and_line(old: str, new: str, key: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(_with(old, new), "policy.toml")

    (problem,) = error.value.problems
    assert problem.key == key
    lines = default_policy_text().splitlines()
    assert problem.line == next(n for n, line in enumerate(lines, 1) if line.startswith(old))
