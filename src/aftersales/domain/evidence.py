"""First evidence: which items a route needs, and which are already in hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aftersales.domain.orders import OrderFacts
from aftersales.domain.routes import EvidenceSpec
from aftersales.domain.signals import Signal


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    key: str
    label: str
    present: bool
    source: str  # what showed it: "message: '#1043'", "order: last scan", "" when missing


@dataclass(frozen=True, slots=True)
class EvidenceChecklist:
    items: tuple[EvidenceItem, ...]

    @property
    def present(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if i.present)

    @property
    def missing(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if not i.present)

    def has(self, key: str) -> bool:
        return any(i.present for i in self.items if i.key == key)


def _order_fact(fact: str, order: OrderFacts | None, policy_version: str) -> str:
    """A short description of the order fact when it is known, else ""."""
    if fact == "policy.version":
        version = (order.policy_version if order else "") or policy_version
        return f"policy version {version}" if version else ""
    if order is None:
        return ""
    known = {
        "order.last_scan": order.last_scan_at is not None,
        "order.promise_window": order.promise_window_end is not None or order.fulfilled_at is not None,
        "order.items": bool(order.items),
        "order.refunds": True,  # an order snapshot always says what was refunded, even nothing
        "order.fulfilled": order.fulfilled_at is not None,
        "order.fulfillment_known": True,
        "order.delivered": order.delivered_at is not None,
    }
    return f"order {order.number}: {fact.removeprefix('order.')}" if known.get(fact) else ""


def _signal_source(kind: str, signals: Sequence[Signal], text: str) -> str:
    kinds = {"photo": ("photo", "attachment_image")}.get(kind, (kind,))
    for signal in signals:
        if signal.kind in kinds:
            return f"message: {signal.quote(text)!r}"
    return ""


def check_evidence(
    specs: Sequence[EvidenceSpec],
    signals: Sequence[Signal],
    text: str,
    order: OrderFacts | None,
    policy_version: str = "",
) -> EvidenceChecklist:
    items = []
    for spec in specs:
        source = ""
        if spec.detected_by and "." in spec.detected_by:
            source = _order_fact(spec.detected_by, order, policy_version)
        elif spec.detected_by:
            source = _signal_source(spec.detected_by, signals, text)
            if not source and spec.detected_by == "order_number" and order is not None:
                source = f"order {order.number}"
            if not source and spec.detected_by == "sku" and order is not None and order.items:
                source = f"order {order.number}: {', '.join(i.sku for i in order.items)}"
        items.append(EvidenceItem(spec.key, spec.label, bool(source), source))
    return EvidenceChecklist(tuple(items))
