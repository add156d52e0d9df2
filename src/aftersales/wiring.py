"""The one place that picks concrete adapters and builds what the commands use."""

from __future__ import annotations

import json
from pathlib import Path

from aftersales.adapters.holidays_calendar import calendar_for
from aftersales.adapters.packaged import (
    builtin_cue_book,
    builtin_examples,
    builtin_model,
    builtin_route_specs,
)
from aftersales.adapters.policy_file import default_policy, load_policy
from aftersales.adapters.tracking_formats import load_courier_formats
from aftersales.domain.errors import ConfigError
from aftersales.domain.policy import StorePolicy
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.routing.model import NaiveBayes, model_from_dict
from aftersales.domain.routing.specs import with_overrides
from aftersales.domain.signals import CatalogueItem
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings


def load_active_policy(settings: Settings) -> StorePolicy:
    path = settings.active_policy_file()
    return load_policy(path) if path is not None else default_policy()


def store_specs(policy: StorePolicy) -> dict[Route, RouteSpec]:
    return {
        route: with_overrides(
            spec, policy.route_overrides.get(route, {}), policy.sla_overrides.get(route, {})
        )
        for route, spec in builtin_route_specs().items()
    }


def load_store_model(path: Path) -> NaiveBayes | None:
    if not path.is_file():
        return None
    try:
        return model_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{path}: cannot use the router model: {error}; retrain with `aftersales train`"
        ) from None


def build_routing_kit(settings: Settings, catalogue: tuple[CatalogueItem, ...] = ()) -> RoutingKit:
    policy = load_active_policy(settings)
    return RoutingKit(
        book=builtin_cue_book(settings.cache_dir),
        specs=store_specs(policy),
        policy=policy,
        calendar=calendar_for(policy),
        tracking_formats=load_courier_formats(),
        catalogue=catalogue,
        model=load_store_model(settings.model_file) or builtin_model(settings.cache_dir),
    )


__all__ = [
    "build_routing_kit",
    "builtin_examples",
    "load_active_policy",
    "load_store_model",
    "store_specs",
]
