"""One error tree: every configuration problem is a ConfigError, so the shell catches it once."""

from __future__ import annotations

import pickle

import pytest

from aftersales.adapters.policy.file import PolicyError, Problem
from aftersales.domain.errors import AftersalesError, ConfigError, InputError, headed
from aftersales.domain.routing.cues import CueError
from aftersales.domain.routing.specs import RouteSpecError


@pytest.mark.parametrize("error_type", [PolicyError, CueError, RouteSpecError])
def test_each_configuration_error_is_a_config_error(error_type: type[Exception]) -> None:
    assert issubclass(error_type, ConfigError)
    assert issubclass(error_type, AftersalesError)


def test_a_policy_error_is_headed_by_the_file_it_is_about() -> None:
    problems = [
        Problem("policy.toml", 3, "time_zone", "unknown IANA time zone 'Mars/New_York'"),
        Problem("policy.toml", 9, "currency", "must be a 3-letter code"),
    ]

    assert headed(PolicyError(problems)) == (
        "the policy file cannot be used:\n"
        "policy.toml:3: time_zone: unknown IANA time zone 'Mars/New_York'\n"
        "policy.toml:9: currency: must be a 3-letter code"
    )


@pytest.mark.parametrize(
    "error",
    [
        CueError("routes.other.cues: bad pattern '('"),
        RouteSpecError("routes.toml: routes missing: other"),
        ConfigError("AFTERSALES_SMTP_HOST is not set"),
        InputError("the message is empty"),
    ],
    ids=["cue", "route spec", "setting", "input"],
)
def test_other_errors_are_shown_as_they_are(error: AftersalesError) -> None:
    assert headed(error) == str(error)


def test_a_policy_error_survives_a_trip_between_processes() -> None:
    error = PolicyError([Problem("policy.toml", 3, "time_zone", "unknown")])

    again = pickle.loads(pickle.dumps(error))

    assert isinstance(again, PolicyError)
    assert (again.problems, str(again)) == (error.problems, str(error))
