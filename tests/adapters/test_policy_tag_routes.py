"""The policy's [history.tag_routes]: the old tool's tags and the route each means."""

from __future__ import annotations

import pytest

from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.routes import Route


def _with(table: str) -> str:
    return default_policy_text() + "\n" + table


def test_no_table_maps_no_tag() -> None:
    assert dict(parse_policy(default_policy_text(), "policy.toml").tag_routes) == {}


def test_tags_map_to_routes_without_regard_to_case() -> None:
    policy = parse_policy(
        _with('[history.tag_routes]\n"Where is my order" = "shipping_delay"\nrefund = "refund_return"\n'),
        "policy.toml",
    )

    assert dict(policy.tag_routes) == {
        "where is my order": Route.SHIPPING_DELAY,
        "refund": Route.REFUND_RETURN,
    }


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ('[history.tag_routes]\nrefund = "refunds"\n', "history.tag_routes.refund", "must be a route name"),
        ("[history.tag_routes]\nrefund = 3\n", "history.tag_routes.refund", "must be a route name"),
        (
            '[history.tag_routes]\nRefund = "other"\nrefund = "other"\n',
            "history.tag_routes.refund",
            "repeats the tag",
        ),
        ("[history]\ntag_route = {}\n", "history.tag_route", "unknown"),
        ('[history]\ntag_routes = "refund"\n', "history.tag_routes", "must be a table"),
    ],
)
def test_a_bad_mapping_is_a_config_error_naming_its_line(table: str, key: str, message: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(_with(table), "policy.toml")

    (problem,) = error.value.problems
    assert problem.key == key
    assert message in problem.message
    assert problem.line is not None
    assert problem.line > len(default_policy_text().splitlines())
