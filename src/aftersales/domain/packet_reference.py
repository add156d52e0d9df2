"""Which packet ``aftersales packet X`` asks for: a case, an order, or a bare number that may
be either (the service looks both up)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aftersales.domain.errors import InputError


@dataclass(frozen=True, slots=True)
class PacketReference:
    """What ``aftersales packet X`` names: a case, an order, or a bare number (either)."""

    text: str
    case_id: int | None = None
    order_number: str | None = None


_CASE_WORDS = re.compile(r"case\s*[:#]?\s*([0-9]+)", re.IGNORECASE)
_ORDER_WORDS = re.compile(r"(?:order\s*[:#]?|#)\s*(\S+)", re.IGNORECASE)
_MAX_CASE_ID = 2_147_483_647


def packet_reference(text: str) -> PacketReference:
    """``42`` (a case or an order), ``case:42``, ``#1043``, ``order:1043`` or an order name."""
    given = text.strip()
    if not given:
        raise InputError("give a case id (42, case:42) or an order number (#1043)", "CASE_OR_ORDER")
    if found := _CASE_WORDS.fullmatch(given):
        return PacketReference(given, case_id=_case_id(found.group(1)))
    if found := _ORDER_WORDS.fullmatch(given):
        return PacketReference(given, order_number=found.group(1).lstrip("#"))
    if given.isascii() and given.isdigit():
        case_id = int(given) if 0 < int(given) <= _MAX_CASE_ID else None
        return PacketReference(given, case_id=case_id, order_number=given)
    return PacketReference(given, order_number=given)


def _case_id(digits: str) -> int:
    number = int(digits)
    if not 0 < number <= _MAX_CASE_ID:
        raise InputError(
            f"case {digits} cannot exist: case ids run from 1 to {_MAX_CASE_ID}", "CASE_OR_ORDER"
        )
    return number
