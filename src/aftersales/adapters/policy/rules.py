"""What each key of the policy file accepts: the rules the policy checker applies.

Each rule carries the words for its message ("must be ...") and the conversion that checks
a value, so a problem always says what is allowed.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import zoneinfo
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Generic, TypeVar

from aftersales.domain.evidence import DETECTED_BY
from aftersales.domain.policy import READER_USES, Interval, Payer, ReaderUse
from aftersales.domain.routes import LEAD_ROLES

SCHEMA_VERSION = 1
# The domain names roles only in prose (RouteSpec.lead); the policy file is where they are
# enforced, because every route's lead must resolve to a person in [leads.*].
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rule(Generic[T]):
    """What one key accepts: the words for the message, and the conversion that checks it."""

    allowed: str  # completes "must be ..."
    convert: Callable[[object], T | None]  # None means the value breaks the rule
    # Stands in for a broken or missing value so that checking can go on and find the
    # other problems; it never reaches a caller, because any problem raises PolicyError.
    fallback: T
    hint: Callable[[object], str] | None = None  # extra advice for a specific bad value


def whole_value(value: object) -> int | None:
    # TOML booleans arrive as Python bools, which are ints; a bool is never a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_number(value: object) -> float | None:
    """A finite int or float as a float; None for anything else (nan, inf, bools, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float is no sensible setting either
        return None
    return number if math.isfinite(number) else None


def as_text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def as_email(value: object) -> str | None:
    # Shape only: one @ and a dotted domain. Deliverability is the mail server's business.
    return value if isinstance(value, str) and EMAIL_SHAPE.fullmatch(value) else None


def as_currency(value: object) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) else None


def as_schema(value: object) -> int | None:
    return SCHEMA_VERSION if whole_value(value) == SCHEMA_VERSION else None


@functools.cache
def time_zones() -> frozenset[str]:
    # "localtime" names whatever the host is set to, so it would move with the server.
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def as_time_zone(value: object) -> str | None:
    return value if isinstance(value, str) and value in time_zones() else None


def time_zone_hint(value: object) -> str:
    if not isinstance(value, str):
        return ""
    by_folded = {zone.casefold(): zone for zone in time_zones()}
    close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.8)
    return f" (did you mean {by_folded[close[0]]!r}?)" if close else ""


def country_rule(known: Collection[str]) -> Rule[str]:
    """A country code among ``known`` (the holidays package's, adapters/business_calendar/holiday_cache.py)."""

    def convert(value: object) -> str | None:
        return value if isinstance(value, str) and value in known else None

    return Rule(
        "an ISO 3166-1 alpha-2 country code in upper case that the holidays package knows, "
        "e.g. 'US', 'GB' or 'DE'",
        convert,
        "",
    )


def destination_rule(known: Collection[str]) -> Rule[str]:
    """A country code among ``known``, or "*" for everywhere else."""
    country = country_rule(known).convert

    def convert(value: object) -> str | None:
        return "*" if value == "*" else country(value)

    return Rule(
        "an ISO 3166-1 alpha-2 country code in upper case, e.g. 'US', or '*' for everywhere else",
        convert,
        "",
    )


def whole(minimum: int, unit: str) -> Rule[int]:
    def convert(value: object) -> int | None:
        whole = whole_value(value)
        return whole if whole is not None and whole >= minimum else None

    return Rule(f"a whole number of {unit}, {minimum} or more", convert, minimum)


def as_hours(value: object) -> float | None:
    number = as_number(value)
    return number if number is not None and number > 0 else None


def as_share(value: object) -> float | None:
    number = as_number(value)
    return number if number is not None and 0 < number < 1 else None


def as_amount(value: object) -> Decimal | None:
    amount: Decimal | None = None
    if whole_value(value) is not None or as_number(value) is not None:
        amount = Decimal(str(value))  # via str: 50.1 stays 50.1, not its binary expansion
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", value.strip()):
        amount = Decimal(value.strip())
    return amount if amount is not None and amount >= 0 else None


def as_payer(value: object) -> Payer | None:
    return Payer(value) if isinstance(value, str) and value in {p.value for p in Payer} else None


def as_role(value: object) -> str | None:
    return value if isinstance(value, str) and value in LEAD_ROLES else None


def as_date(value: object) -> date | None:
    # datetime is a subclass of date; a closure is a whole day, so a timestamp is refused.
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


def date_hint(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return " (write the date without quotes, so TOML reads it as a date)"
    return ""


INTERVAL_SHAPE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def as_interval(value: object) -> Interval | None:
    found = INTERVAL_SHAPE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    start_h, start_m, end_h, end_m = (int(group) for group in found.groups())
    if max(start_h, end_h) > 23 or max(start_m, end_m) > 59:
        return None
    start, end = time(start_h, start_m), time(end_h, end_m)
    return Interval(start, end) if start < end else None


def interval_hint(value: object) -> str:
    if isinstance(value, str) and "24:00" in value:
        return " (24:00 is not a time of day; end at 23:59)"
    return ""


def as_evidence_key(value: object) -> str | None:
    # Evidence keys are typed by people ticking items off, so keep them plain snake_case.
    if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value):
        return value
    return None


ROLE_LIST = ", ".join(LEAD_ROLES)
SCHEMA = Rule(f"{SCHEMA_VERSION}, the only policy file format this version reads", as_schema, 1)
TEXT = Rule("a non-empty string", as_text, "")


def as_language(value: object) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(r"[a-z]{2}", value) else None


LANGUAGE = Rule(
    "a two-letter ISO 639-1 language code in lower case, e.g. 'en', 'fr' or 'de'", as_language, "en"
)
EMAIL = Rule("an e-mail address like 'support@example.com' (one @, a dot in the domain)", as_email, "")
CURRENCY = Rule("a three-letter ISO 4217 currency code in upper case, e.g. 'USD' or 'EUR'", as_currency, "")
TIME_ZONE = Rule(
    "an IANA time zone name, e.g. 'America/New_York' or 'Europe/Berlin'",
    as_time_zone,
    "UTC",
    time_zone_hint,
)
CLOSURE = Rule("a date written without quotes, e.g. 2026-12-24", as_date, date.min, date_hint)
INTERVAL = Rule(
    'an opening interval "HH:MM-HH:MM" in 24-hour local time with the start before the '
    'end, e.g. "09:00-17:00"',
    as_interval,
    Interval(time.min, time.max),
    interval_hint,
)
SHARE = Rule("a number greater than 0 and less than 1, e.g. 0.75", as_share, 0.5)
HOURS = Rule("a number of hours greater than 0", as_hours, 1.0)
AMOUNT = Rule('an amount of 0 or more, as a decimal string like "50.00" or a number', as_amount, Decimal(0))
PAYER = Rule("'store' or 'customer'", as_payer, Payer.STORE)
UPDATE_MODES = ("between_replies", "after_customer")


def as_update_mode(value: object) -> str | None:
    return value if isinstance(value, str) and value in UPDATE_MODES else None


UPDATE_MODE = Rule("'between_replies' or 'after_customer'", as_update_mode, "between_replies")


def as_reader_use(value: object) -> ReaderUse | None:
    return next((use for use in READER_USES if use == value), None)


def as_flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def as_seconds(value: object) -> float | None:
    number = as_number(value)
    return number if number is not None and 0 < number <= 300 else None


READER_USE: Rule[ReaderUse] = Rule("'when_unsure', 'always' or 'never'", as_reader_use, "when_unsure")
FLAG = Rule("true or false", as_flag, fallback=True)
SECONDS = Rule("a number of seconds greater than 0 and at most 300", as_seconds, 10.0)
ROLE = Rule(f"one of the lead roles: {ROLE_LIST}", as_role, "")
EVIDENCE_KEY = Rule('a snake_case name, e.g. "damage_photo"', as_evidence_key, "")


def as_detector(value: object) -> str | None:
    return value if isinstance(value, str) and value in DETECTED_BY else None


DETECTED = Rule(
    f"one of {', '.join(DETECTED_BY)} (or leave detected_by out: a person ticks it)",
    as_detector,
    "",
    hint=lambda value: (
        f" (did you mean {close[0]!r}?)"
        if (close := difflib.get_close_matches(str(value), DETECTED_BY, n=1))
        else ""
    ),
)


def shown(value: object) -> str:
    """A bad value as the store wrote it, short enough for one message line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, date | time):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown(key: str, allowed: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what}{guess}; allowed: {', '.join(allowed)}"
