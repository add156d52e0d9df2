"""Behind a reverse proxy: `aftersales serve` believes X-Forwarded-For/-Proto only from the
proxies AFTERSALES_FORWARDED_ALLOW_IPS names; by default from no one."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.cli.serve import proxy_options
from aftersales.settings import load_settings


@pytest.mark.parametrize(
    ("value", "options"),
    [
        pytest.param(None, {"proxy_headers": False, "forwarded_allow_ips": None}, id="no proxy"),
        pytest.param("  ", {"proxy_headers": False, "forwarded_allow_ips": None}, id="blank is none"),
        pytest.param(
            "127.0.0.1", {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"}, id="one proxy"
        ),
        pytest.param(
            "10.0.0.0/8, 127.0.0.1",
            {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.0/8, 127.0.0.1"},
            id="a network and an address",
        ),
    ],
)
def test_the_server_believes_forwarded_headers_only_from_named_proxies(
    value: str | None, options: dict[str, Any]
) -> None:
    environ = {"AFTERSALES_DATA_DIR": "/x"} | ({"AFTERSALES_FORWARDED_ALLOW_IPS": value} if value else {})
    assert proxy_options(load_settings(environ)) == options
