"""Shared fixtures: the routing kit built exactly as the CLI builds it, on a temp data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> RoutingKit:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return build_routing_kit(Settings(data_dir=data_dir, policy_file=None))
