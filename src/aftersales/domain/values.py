"""Tolerant readers for the values that come in at the edges: a value, or ``BadValue`` with a reason.

Every date, number and id read from outside (mail headers, JSONL lines, the API's message body,
the Shopify and review CSV exports) is read here, so a value that is malformed or out of range
is refused where it is read, with a reason naming the field and the value. The caller turns that
reason into a quarantine entry, a reported CSV line or a 422; nothing later (SLA arithmetic, a
database column) ever sees a value it cannot hold.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime

# The widest ids the database keeps (adapters/db/schema.py): ids are INTEGER (32-bit signed).
MAX_ID = 2_147_483_647
# The window a time read from outside must fall in. SLA arithmetic adds weeks of business
# hours and zone offsets to these times, and Python's datetime ends at year 9999, so a Date in
# year 9999 overflowed later (finding 1). Nothing a customer or a shop sends predates 1970 (the
# Unix epoch, before online shops) or is due after 2100, which leaves any deadline room to run.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Digits only, ASCII: "²".isdigit() is true and int("²") raises; "١٢" (Arabic-Indic) is read
# by int() but is no case number anyone typed at us.
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_AMOUNT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_ID_DIGITS = len(str(MAX_ID))
# int() of thousands of digits is quadratic, and refused past 4,300 digits anyway
_NUMBER_DIGITS = 30


class BadValue(ValueError):
    """A value that cannot be read; ``reason`` names the field and the value, ``line`` the CSV
    line it was on (0 when there is none)."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def shown(value: object, width: int = 40) -> str:
    """A value quoted for a reason, cut so a 5 MB value gives a short message."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4,300 digits has no repr
        return "(a number of thousands of digits)"
    return text if len(text) <= width else text[: width - 1] + "…"


def in_window(moment: datetime, what: str) -> datetime:
    """``moment`` (aware) when it lies between ``EARLIEST`` and ``LATEST``."""
    if moment.utcoffset() is None:
        raise BadValue(f"{what} {shown(moment.isoformat())} has no time zone offset")
    try:
        inside = EARLIEST <= moment < LATEST
    except OverflowError:  # a time near year 1 or 9999 with an offset cannot even be compared
        inside = False
    if not inside:
        raise BadValue(
            f"{what} {shown(moment.isoformat())} is out of range ({EARLIEST.year} to {LATEST.year - 1})"
        )
    return moment


def read_iso_datetime(value: object, what: str) -> datetime:
    """An ISO 8601 time with an offset, e.g. 2026-11-24T10:00:00-05:00, inside the window."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise BadValue(f"{what} must be an ISO 8601 time with an offset, e.g. 2026-11-24T10:00:00-05:00")
    return in_window(moment, what)


def read_mail_date(value: str) -> datetime:
    """An RFC 5322 Date header ("Tue, 24 Nov 2026 10:00:00 -0500"), aware and inside the window."""
    try:
        moment = parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError, IndexError):
        raise BadValue(f"Date {shown(value)} is not a mail date") from None
    if moment.utcoffset() is None:
        raise BadValue(f"Date {shown(value)} has no time zone offset")
    return in_window(moment, "Date")


def mail_date_or_none(value: str) -> datetime | None:
    """A Date header as ``read_mail_date`` reads it, but lenient where real mail is sloppy: an
    unreadable date or one without an offset ("-0000") gives None (the mail then counts from
    when it was received). A readable date outside the window is no sloppiness (year 9999 is
    a forged or broken mail) and raises ``BadValue``, so the mail is quarantined with it."""
    try:
        moment = parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    if moment.utcoffset() is None:
        return None
    return in_window(moment, "Date")


def read_id(value: object, what: str) -> int:
    """A database id (a case number): ASCII digits, or an int, from 1 to ``MAX_ID``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadValue(f"{what} {shown(value)} is not a number")
    if isinstance(value, int):
        if not 1 <= value <= MAX_ID:
            raise BadValue(f"{what} {shown(value)} is not a number from 1 to {MAX_ID}")
        return value
    text = value.strip()
    digits = text.lstrip("0") or "0"
    if not _ASCII_DIGITS.fullmatch(text) or len(digits) > _ID_DIGITS or not 1 <= int(digits) <= MAX_ID:
        raise BadValue(f"{what} {shown(value)} is not a number from 1 to {MAX_ID}")
    return int(digits)


def id_or_none(value: str) -> int | None:
    """``read_id`` for a hint that may simply be absent or wrong (a "[case N]" tag)."""
    try:
        return read_id(value, "id")
    except BadValue:
        return None


def read_whole(value: str, what: str, *, low: int, high: int) -> int:
    """A whole number written in ASCII digits, from ``low`` to ``high``."""
    text = value.strip()
    if len(text) > _NUMBER_DIGITS or not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise BadValue(f"{what} {shown(value)} is not a whole number from {low} to {high}")
    return int(text)


def read_amount(value: str, what: str, *, digits: int, places: int, signed: bool = False) -> Decimal:
    """A plain decimal amount (no currency sign or exponent): at most ``digits`` digits
    before the point and ``places`` after it (the NUMERIC column it goes to)."""
    text = value.strip()
    whole, _, fraction = text.lstrip("+-").partition(".")
    if (
        len(text) > digits + places + 2
        or not _AMOUNT.fullmatch(text)
        or (text.startswith("-") and not signed)
        or len(whole.lstrip("0")) > digits
    ):
        raise BadValue(f"{what} {shown(value)} is not an amount like 24.00")
    if len(fraction) > places:
        raise BadValue(f"{what} {shown(value)} has more than {places} decimal places")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover (the pattern admits only what Decimal reads)
        raise BadValue(f"{what} {shown(value)} is not an amount like 24.00") from None


def read_text(value: str, what: str, width: int) -> str:
    """Text of at most ``width`` characters (the column it is stored in)."""
    if len(value) > width:
        raise BadValue(f"{what} {shown(value)} is longer than {width} characters")
    return value
