"""The dispute evidence packet of a case or an order: read everything in one transaction,
then build the packet and its checklist (``aftersales.domain.packet``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from aftersales.domain.cases import CaseNotFound
from aftersales.domain.errors import InputError
from aftersales.domain.packet import Packet, PacketData, build_packet
from aftersales.domain.packet_evidence import packet_evidence
from aftersales.domain.packet_reference import PacketReference, packet_reference
from aftersales.domain.routes import Route, RouteSpec


class PacketQueries(Protocol):
    """The reads a packet needs, inside one read-only transaction."""

    def case_order_number(self, case_id: int) -> str | None:
        """The case's order number ("" when it has none); None when there is no such case."""
        ...

    def order_known(self, number: str) -> bool:
        """True when the order is stored, or a case or dispute names it."""
        ...

    def packet_data(self, subject: str, order_number: str, case_id: int | None) -> PacketData:
        """What the desk holds about the order (every case on it) and the case, if given."""
        ...


PacketReader = Callable[[], AbstractContextManager[PacketQueries]]


class PacketNotFound(CaseNotFound):
    """No case or order by that reference."""


def evidence_packet(
    read: PacketReader,
    reference: str,
    *,
    now: datetime,
    specs: Mapping[Route, RouteSpec] | None = None,
) -> Packet:
    """The packet of a case (with every other case on its order) or of an order. With the
    store's route ``specs``, each case's evidence items are read as its case page shows them
    (domain/evidence.py): marked, or their fact known now; without, as stored."""
    ref = packet_reference(reference)
    with read() as queries:
        case_id, order_number = _resolve(queries, ref)
        subject = f"case {case_id}" if case_id is not None else f"order #{order_number}"
        if case_id is not None and order_number:
            subject += f" (order #{order_number})"
        data = queries.packet_data(subject, order_number, case_id)
    if specs is not None:
        data = replace(data, evidence=packet_evidence(data, specs, order_number))
    return build_packet(data, now)


def _resolve(queries: PacketQueries, ref: PacketReference) -> tuple[int | None, str]:
    case_order = queries.case_order_number(ref.case_id) if ref.case_id is not None else None
    is_order = ref.order_number is not None and queries.order_known(ref.order_number)
    if case_order is not None and is_order and case_order != ref.order_number:
        raise InputError(
            f"{ref.text!r} is both case {ref.case_id} and order #{ref.order_number}: "
            f"write case:{ref.case_id} or #{ref.order_number}",
            "CASE_OR_ORDER",
        )
    if case_order is not None:
        return ref.case_id, case_order
    if is_order and ref.order_number is not None:
        return None, ref.order_number
    raise PacketNotFound(_not_found(ref))


def _not_found(ref: PacketReference) -> str:
    if ref.case_id is not None and ref.order_number is not None:
        return f"no case {ref.case_id} and no order #{ref.order_number}"
    if ref.case_id is not None:
        return f"no case {ref.case_id}"
    return f"no order #{ref.order_number}"
