"""Route specs from data: the built-in table plus a store's overrides, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from aftersales.domain.errors import ConfigError
from aftersales.domain.evidence import DETECTED_BY
from aftersales.domain.routes import EvidenceSpec, Route, RouteSpec, SlaTargets

TEXT_FIELDS: tuple[str, ...] = (
    "title",
    "frontline_action",
    "risky_route",
    "correct_route",
    "escalation_trigger",
    "lead",
    "first_reply",
    "resolution_path",
    "stop_line",
    "record_location",
)
SLA_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SlaTargets))


class RouteSpecError(ConfigError):
    """A route spec is malformed; the message names the key."""


def parse_route_specs(data: Mapping[str, Any], source: str) -> dict[Route, RouteSpec]:
    routes = data.get("routes", {})
    missing = [r.value for r in Route if r.value not in routes]
    if missing:
        raise RouteSpecError(f"{source}: routes missing: {', '.join(missing)}")
    return {Route(name): _spec(Route(name), body, source) for name, body in routes.items()}


def _spec(route: Route, body: Mapping[str, Any], source: str) -> RouteSpec:
    where = f"{source}: routes.{route}"
    text = {name: _text(body, name, where) for name in TEXT_FIELDS}
    return RouteSpec(
        route=route,
        evidence=_evidence(body.get("evidence", []), where),
        write_back=tuple(_strings(body.get("write_back", []), f"{where}.write_back")),
        sla=_sla(body.get("sla", {}), where),
        **text,
    )


def _text(body: Mapping[str, Any], name: str, where: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RouteSpecError(f"{where}.{name}: a non-empty text is required")
    return value


def _strings(value: Any, where: str) -> list[str]:
    # a tuple is what the policy file hands over once it has checked the list
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise RouteSpecError(f"{where}: a list of texts is required")
    return list(value)


def _evidence(items: Any, where: str) -> tuple[EvidenceSpec, ...]:
    if not isinstance(items, list):
        raise RouteSpecError(f"{where}.evidence: a list of {{key, label, detected_by}} is required")
    specs = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not {"key", "label"} <= set(item):
            raise RouteSpecError(f"{where}.evidence[{index}]: needs key and label")
        detected_by = item.get("detected_by")
        if detected_by is not None and detected_by not in DETECTED_BY:
            raise RouteSpecError(
                f"{where}.evidence[{index}].detected_by: unknown {detected_by!r}; "
                f"allowed: {', '.join(DETECTED_BY)} (or leave it out: a person ticks it)"
            )
        specs.append(EvidenceSpec(str(item["key"]), str(item["label"]), detected_by))
    return tuple(specs)


def _sla(body: Mapping[str, Any], where: str) -> SlaTargets:
    values = {}
    for name in SLA_FIELDS:
        value = body.get(name)
        if not isinstance(value, int | float) or value < 0:
            raise RouteSpecError(f"{where}.sla.{name}: a number of business hours >= 0 is required")
        values[name] = float(value)
    return SlaTargets(**values)


def with_overrides(spec: RouteSpec, overrides: Mapping[str, object], sla: Mapping[str, float]) -> RouteSpec:
    """A store's policy file replaces any field of a built-in spec (validated by the policy file)."""
    changes: dict[str, Any] = {k: v for k, v in overrides.items() if k in TEXT_FIELDS}
    if "write_back" in overrides:
        changes["write_back"] = tuple(_strings(overrides["write_back"], f"routes.{spec.route}"))
    if "evidence" in overrides:
        changes["evidence"] = _override_evidence(overrides["evidence"], f"routes.{spec.route}")
    if sla:
        changes["sla"] = replace(spec.sla, **{k: float(v) for k, v in sla.items()})
    return replace(spec, **changes)


def _override_evidence(items: Any, where: str) -> tuple[EvidenceSpec, ...]:
    """The policy file hands over checked ``EvidenceSpec`` items; plain tables are checked here."""
    if isinstance(items, tuple | list) and all(isinstance(i, EvidenceSpec) for i in items):
        return tuple(items)
    return _evidence(items, where)
