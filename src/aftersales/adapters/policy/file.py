"""The store's policy file (TOML): read it, check every value, point at the line of each problem.

A store edits this one file by hand; a typo in it must never turn into a wrong SLA clock or
a silent refund limit. So nothing is defaulted quietly: every key is checked, *all*
problems are collected before anything is raised (a store fixes the file in one pass, not
one error per run), and each problem names its key, its line and what is allowed.

The domain only ever sees the validated ``StorePolicy``; the file format lives here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from aftersales.adapters.business_calendar.holiday_cache import country_codes, subdivision_codes
from aftersales.adapters.policy import cues as policy_cues
from aftersales.adapters.policy import replies as policy_replies
from aftersales.adapters.policy import rules
from aftersales.adapters.policy.rules import SCHEMA_VERSION
from aftersales.adapters.policy.toml_locator import Locator, join_key
from aftersales.domain.errors import ConfigError
from aftersales.domain.policy import (
    RETRAIN_EVERY,
    Interval,
    Lead,
    Payer,
    ReaderPolicy,
    ReturnReason,
    ShippingPromise,
    StorePolicy,
    SurveyPolicy,
)
from aftersales.domain.routes import LEAD_ROLES, EvidenceSpec, Route, RouteSpec, SlaTargets

__all__ = [
    "DEFAULT_SOURCE",
    "LEAD_ROLES",
    "SCHEMA_VERSION",
    "PolicyError",
    "Problem",
    "default_policy",
    "default_policy_text",
    "load_policy",
    "locate",
    "parse_policy",
]

DEFAULT_SOURCE = "<built-in default>"  # same label StorePolicy uses for its default source

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ROUTES = tuple(route.value for route in Route)
_REASONS = tuple(reason.value for reason in ReturnReason)
# Derived from the domain dataclasses so a new clock or spec field cannot drift from the file.
_SLA_CLOCKS = tuple(f.name for f in dataclasses.fields(SlaTargets))
_ROUTE_LISTS = ("evidence", "write_back")
_ROUTE_TEXTS = tuple(
    f.name for f in dataclasses.fields(RouteSpec) if f.name not in {"route", "sla", "lead", *_ROUTE_LISTS}
)
_ROUTE_KEYS = (*_ROUTE_TEXTS, "lead", *_ROUTE_LISTS)

_TOP_KEYS = (
    "schema",
    "store",
    "hours",
    "sla",
    "shipping",
    "returns",
    "review",
    "leads",
    "routes",
    "learning",
    "satisfaction",
    "reader",
    "replies",
    "saved_replies",
    "faq",
    "cues",
    "history",
)
_STORE_KEYS = (
    "name",
    "support_email",
    "currency",
    "time_zone",
    "country",
    "subdivision",
    "closures",
    "language",
)
_SLA_KEYS = ("at_risk_share", "update_mode")
_SHIPPING_KEYS = ("stalled_scan_days", "promise")
_PROMISE_KEYS = ("destination", "min_days", "max_days")
_RETURNS_KEYS = ("window_days", "frontline_refund_limit", "shipping_payer")
_REVIEW_KEYS = ("repeat_threshold", "repeat_window_days", "request_after_delivery_days")
_READER_KEYS = ("use", "timeout_seconds", "redact", "per_minute", "semantic")
_SATISFACTION_KEYS = ("survey", "link_days")
_LEAD_KEYS = ("name", "email")
_EVIDENCE_KEYS = ("key", "label", "detected_by")

_Table = Mapping[str, object]
_NOTHING: Mapping[Route, Mapping[str, object]] = MappingProxyType({})
_NOTHING_BY_LANGUAGE: Mapping[str, Mapping[Route, str]] = MappingProxyType({})
T = TypeVar("T")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file, precise enough to fix without reading code."""

    source: str  # the file name, or "<string>"
    line: int | None  # 1-based; None when the key is absent and so is its table
    key: str  # dotted key path, e.g. "shipping.promise[1].max_days"; "" for the whole file
    message: str  # what is wrong and what is allowed

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.key:
            return f"{where}: {self.key}: {self.message}"
        return f"{where}: {self.message}"


class PolicyError(ConfigError):
    """The policy file cannot be used; ``problems`` lists every reason, in file order."""

    subject = "the policy file"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[type[PolicyError], tuple[tuple[Problem, ...]]]:
        # Exception pickles its args (the joined text); rebuild from the problems instead,
        # so the error survives a trip through multiprocessing intact.
        return (PolicyError, (self.problems,))


# --------------------------------------------------------------------------- public API


def parse_policy(text: str, source: str = "<string>", *, cache_dir: Path | None = None) -> StorePolicy:
    """Parse and validate policy file text; raise PolicyError listing every problem.
    ``cache_dir`` keeps the holidays package's subdivision codes (adapters/business_calendar/holiday_cache.py)."""
    root = _load_toml(text, source)
    check = _Checker(source, text, cache_dir)
    policy = _build(check, root)
    if check.problems:
        raise PolicyError(sorted(check.problems, key=_reading_order))
    return policy


def load_policy(path: Path, *, cache_dir: Path | None = None) -> StorePolicy:
    """Read a policy file (UTF-8) and parse it; unreadable files become a PolicyError too."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        message = (
            f"cannot read the policy file ({reason}); it must be a readable UTF-8 TOML file, "
            "e.g. one written by `aftersales policy init`"
        )
        raise PolicyError([Problem(source, None, "", message)]) from None
    return parse_policy(_decode(data, source), source, cache_dir=cache_dir)


@functools.cache
def default_policy_text() -> str:
    """The commented default policy shipped with the package (what `policy init` copies)."""
    packaged = resources.files("aftersales") / "data" / "policy.default.toml"
    return packaged.read_text(encoding="utf-8")


@functools.cache
def default_policy(cache_dir: Path | None = None) -> StorePolicy:
    """The packaged default, parsed once; its mappings are read-only, so sharing is safe."""
    return parse_policy(default_policy_text(), source=DEFAULT_SOURCE, cache_dir=cache_dir)


def locate(text: str, key: str) -> int | None:
    """The line where a dotted key path is written in valid TOML text, or None if absent.

    ``key`` looks like ``sla.shipping_delay.first_response_hours``, ``hours.monday`` or
    ``shipping.promise[1].max_days`` (the second ``[[shipping.promise]]`` table).
    """
    return Locator(text).line_of(key)


# --------------------------------------------------------------------------- reading


def _decode(data: bytes, source: str) -> str:
    try:
        # utf-8-sig: editors on Windows often prepend a BOM, which TOML itself rejects.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = (
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be decoded); "
            "save the file with UTF-8 encoding"
        )
        raise PolicyError([Problem(source, line, "", message)]) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_HELP = 'the file must be TOML 1.0 (https://toml.io), e.g. key = "value" under [table]'


def _load_toml(text: str, source: str) -> Mapping[str, object]:
    try:
        data: dict[str, Any] = tomllib.loads(text)  # the parse boundary: Any stops here
    except tomllib.TOMLDecodeError as error:
        raise PolicyError([_syntax_problem(source, text, str(error))]) from None
    except (ValueError, RecursionError) as error:
        # tomllib lets these escape for integers past Python's digit limit and for arrays
        # nested thousands deep; they are still "this is not a usable TOML file".
        message = f"not valid TOML ({type(error).__name__}); {_TOML_HELP}"
        raise PolicyError([Problem(source, None, "", message)]) from None
    return data


def _syntax_problem(source: str, text: str, message: str) -> Problem:
    # Python 3.11's TOMLDecodeError has no line attribute; the position is only in the text.
    found = _TOML_POSITION.search(message)
    if found is not None:
        detail = f"{message[: found.start()]} at column {found.group(2)}"
        return Problem(source, int(found.group(1)), "", f"not valid TOML: {detail}; {_TOML_HELP}")
    line: int | None = None
    if message.endswith("(at end of document)"):
        line = text.count("\n") + 1
        message = message.removesuffix(" (at end of document)") + " at the end of the file"
    return Problem(source, line, "", f"not valid TOML: {message}; {_TOML_HELP}")


def _reading_order(problem: Problem) -> tuple[bool, int]:
    # File order reads best; problems with no line (whole sections missing) go last.
    return (problem.line is None, problem.line or 0)


# --------------------------------------------------------------------------- checker


class _Checker:
    """Collects problems while the sections are read, so all of them are reported at once."""

    def __init__(self, source: str, text: str, cache_dir: Path | None = None) -> None:
        self.source = source
        self.cache_dir = cache_dir  # where the holidays package's answers are kept
        self._countries: frozenset[str] | None = None
        self._locator = Locator(text)
        self.problems: list[Problem] = []

    def countries(self) -> frozenset[str]:
        """The country codes the holidays package knows, asked once."""
        if self._countries is None:
            self._countries = country_codes(self.cache_dir)
        return self._countries

    def report(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, self._locator.nearest(key), key, message))

    def mark(self) -> int:
        return len(self.problems)

    def clean_since(self, mark: int) -> bool:
        return len(self.problems) == mark

    def wrong(self, key: str, allowed: str, value: object, hint: str = "") -> None:
        self.report(key, f"must be {allowed}, got {rules.shown(value)}{hint}")

    def unknown_keys(self, table: _Table, path: str, allowed: Sequence[str], what: str = "key") -> None:
        for key in table:
            if key not in allowed:
                self.report(join_key(path, key), rules.unknown(key, allowed, what))

    def optional(self, table: _Table, path: str, key: str, rule: rules.Rule[T]) -> T | None:
        """The checked value, or None when absent or broken (broken is reported)."""
        if key not in table:
            return None
        value = rule.convert(table[key])
        if value is None:
            hint = rule.hint(table[key]) if rule.hint else ""
            self.wrong(join_key(path, key), rule.allowed, table[key], hint)
        return value

    def required(self, table: _Table, path: str, key: str, rule: rules.Rule[T]) -> T:
        if key not in table:
            self.report(join_key(path, key), f"is missing; it must be {rule.allowed}")
        value = self.optional(table, path, key, rule)
        return rule.fallback if value is None else value

    def table(
        self, parent: _Table, path: str, key: str, contents: str, *, required: bool = True
    ) -> _Table | None:
        """A sub-table; None when absent or not a table (reported, unless optional)."""
        full = join_key(path, key)
        if key not in parent:
            if required:
                self.report(full, f"is missing; add a [{full}] table with {contents}")
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.wrong(full, f"a table [{full}] with {contents}", value)
            return None
        return value

    def values(self, table: _Table, path: str, key: str, rule: rules.Rule[T]) -> tuple[T, ...] | None:
        """A list whose items each follow ``rule``; broken items are reported and dropped."""
        if key not in table:
            return None
        raw, full = table[key], join_key(path, key)
        if not isinstance(raw, list):
            self.wrong(full, f"a list of items, each {rule.allowed}", raw)
            return ()
        checked = (self._item(f"{full}[{index}]", item, rule) for index, item in enumerate(raw))
        return tuple(value for value in checked if value is not None)

    def tables(self, table: _Table, path: str, key: str, contents: str) -> list[tuple[str, _Table]] | None:
        """An array of tables as (path, table) pairs; None when absent."""
        if key not in table:
            return None
        raw, full = table[key], join_key(path, key)
        if not isinstance(raw, list):
            self.wrong(full, f"an array of tables [[{full}]], each with {contents}", raw)
            return []
        found: list[tuple[str, _Table]] = []
        for index, item in enumerate(raw):
            if isinstance(item, dict):
                found.append((f"{full}[{index}]", item))
            else:
                self.wrong(f"{full}[{index}]", f"a table with {contents}", item)
        return found

    def _item(self, path: str, item: object, rule: rules.Rule[T]) -> T | None:
        value = rule.convert(item)
        if value is None:
            self.wrong(path, rule.allowed, item, rule.hint(item) if rule.hint else "")
        return value


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True, slots=True)
class _Store:
    name: str = ""
    support_email: str = ""
    currency: str = ""
    time_zone: str = "UTC"
    country: str = ""
    subdivision: str | None = None
    closures: frozenset[date] = frozenset()
    language: str = "en"


@dataclass(frozen=True, slots=True)
class _Returns:
    window_days: int = 0
    refund_limit: Decimal = Decimal(0)
    payers: Mapping[ReturnReason, Payer] = dataclasses.field(default_factory=dict)


def _build(check: _Checker, root: _Table) -> StorePolicy:
    check.unknown_keys(root, "", _TOP_KEYS, "top-level key")
    check.required(root, "", "schema", rules.SCHEMA)
    store = _store(check, root)
    at_risk_share, sla_overrides = _sla(check, root)
    update_mode = _update_mode(check, root)
    stalled_scan_days, promises = _shipping(check, root)
    returns = _returns(check, root)
    review = _review(check, root)
    return StorePolicy(
        store_name=store.name,
        support_email=store.support_email,
        time_zone=store.time_zone,
        country=store.country,
        subdivision=store.subdivision,
        business_hours=_hours(check, root),
        closures=store.closures,
        sla_overrides=sla_overrides,
        at_risk_share=at_risk_share,
        update_mode=update_mode,
        shipping_promises=promises,
        stalled_scan_days=stalled_scan_days,
        return_window_days=returns.window_days,
        return_shipping_payer=returns.payers,
        frontline_refund_limit=returns.refund_limit,
        currency=store.currency,
        leads=_leads(check, root),
        route_overrides=_routes(check, root),
        source=check.source,
        repeat_threshold=review.repeat_threshold,
        repeat_window_days=review.repeat_window_days,
        review_request_days=review.request_days,
        retrain_every=_retrain_every(check, root),
        satisfaction=_satisfaction(check, root),
        reader=_reader(check, root),
        language=store.language,
        reply_templates=_replies(check, root),
        saved_replies=policy_replies.saved_replies(check, root, store.language),
        faq=policy_replies.faq(check, root, store.language),
        custom_cues=policy_cues.store_cues(check, root),
        tag_routes=_tag_routes(check, root),
    )


def _store(check: _Checker, root: _Table) -> _Store:
    table = check.table(root, "", "store", "name, support_email, currency, time_zone, country")
    if table is None:
        return _Store()
    check.unknown_keys(table, "store", _STORE_KEYS)
    country = check.required(table, "store", "country", rules.country_rule(check.countries()))
    return _Store(
        name=check.required(table, "store", "name", rules.TEXT),
        support_email=check.required(table, "store", "support_email", rules.EMAIL),
        currency=check.required(table, "store", "currency", rules.CURRENCY),
        time_zone=check.required(table, "store", "time_zone", rules.TIME_ZONE),
        country=country,
        subdivision=_subdivision(check, table, country),
        closures=frozenset(check.values(table, "store", "closures", rules.CLOSURE) or ()),
        language=check.optional(table, "store", "language", rules.LANGUAGE) or "en",
    )


def _subdivision(check: _Checker, table: _Table, country: str) -> str | None:
    if not country:  # the country itself is broken (already reported): nothing to check against
        return check.optional(table, "store", "subdivision", rules.TEXT)
    codes = subdivision_codes(country, check.cache_dir)
    if not codes:
        allowed = f"left out: the holidays package knows no subdivisions of {country!r}"
    else:
        allowed = f"one of the subdivision codes the holidays package knows for {country!r}: "
        allowed += ", ".join(codes)

    def convert(value: object) -> str | None:
        return value if isinstance(value, str) and value in codes else None

    return check.optional(table, "store", "subdivision", rules.Rule(allowed, convert, ""))


def _hours(check: _Checker, root: _Table) -> Mapping[int, tuple[Interval, ...]]:
    contents = 'one key per open weekday, e.g. monday = ["09:00-12:00", "13:00-17:00"]'
    table = check.table(root, "", "hours", contents)
    if table is None:
        return {}
    mark = check.mark()
    check.unknown_keys(table, "hours", _WEEKDAYS, "day")
    week: dict[int, tuple[Interval, ...]] = {}
    for weekday, day in enumerate(_WEEKDAYS):
        intervals = _day(check, table, day)
        if intervals:
            week[weekday] = intervals
    if not week and check.clean_since(mark):
        # With no open hour at all, no business-hours clock could ever run or fall due.
        check.report("hours", f"has no opening hours; at least one day needs an interval: {contents}")
    return MappingProxyType(week)


def _day(check: _Checker, table: _Table, day: str) -> tuple[Interval, ...]:
    intervals = sorted(check.values(table, "hours", day, rules.INTERVAL) or (), key=lambda i: i.start)
    for earlier, later in zip(intervals, intervals[1:], strict=False):
        if later.start < earlier.end:
            check.report(
                f"hours.{day}",
                f"intervals {_clock(earlier)} and {_clock(later)} overlap; a day's intervals "
                "must not overlap (one may start when the previous one ends)",
            )
    return tuple(intervals)


def _clock(interval: Interval) -> str:
    return f"'{interval.start:%H:%M}-{interval.end:%H:%M}'"


def _sla(check: _Checker, root: _Table) -> tuple[float, Mapping[Route, Mapping[str, float]]]:
    table = check.table(root, "", "sla", "at_risk_share, update_mode and optional [sla.<route>] tables")
    if table is None:
        return rules.SHARE.fallback, {}
    share = check.required(table, "sla", "at_risk_share", rules.SHARE)
    overrides: dict[Route, Mapping[str, float]] = {}
    for key, value in table.items():
        if key in _SLA_KEYS:
            continue
        if key not in _ROUTES:
            check.report(f"sla.{key}", _unknown_sla_key(key, value))
            continue
        clocks = _sla_route(check, key, value)
        if clocks:
            overrides[Route(key)] = clocks
    return share, MappingProxyType(overrides)


def _unknown_sla_key(key: str, value: object) -> str:
    # A table under [sla] is meant as a route; a plain value is most likely a typo of the key.
    if isinstance(value, dict):
        return rules.unknown(key, _ROUTES, "route")
    return rules.unknown(key, _SLA_KEYS, "key") + ", or a route table [sla.<route>]"


def _update_mode(check: _Checker, root: _Table) -> str:
    table = root.get("sla")
    if not isinstance(table, dict):
        return rules.UPDATE_MODE.fallback
    return check.optional(table, "sla", "update_mode", rules.UPDATE_MODE) or rules.UPDATE_MODE.fallback


def _sla_route(check: _Checker, route: str, value: object) -> Mapping[str, float]:
    path = f"sla.{route}"
    if not isinstance(value, dict):
        check.wrong(path, f"a table of clock targets in business hours: {', '.join(_SLA_CLOCKS)}", value)
        return {}
    check.unknown_keys(value, path, _SLA_CLOCKS, "clock")
    clocks = {clock: check.optional(value, path, clock, rules.HOURS) for clock in _SLA_CLOCKS}
    return MappingProxyType({clock: hours for clock, hours in clocks.items() if hours is not None})


def _shipping(check: _Checker, root: _Table) -> tuple[int, tuple[ShippingPromise, ...]]:
    table = check.table(root, "", "shipping", "stalled_scan_days and [[shipping.promise]] tables")
    if table is None:
        return 1, ()
    check.unknown_keys(table, "shipping", _SHIPPING_KEYS)
    stalled = check.required(table, "shipping", "stalled_scan_days", rules.whole(1, "days"))
    return stalled, _promises(check, table)


def _promises(check: _Checker, table: _Table) -> tuple[ShippingPromise, ...]:
    contents = "destination, min_days and max_days"
    if table.get("promise") in (None, []):
        check.report(
            "shipping.promise",
            f"is missing; add at least one [[shipping.promise]] table with {contents} "
            '(destination = "*" covers everywhere else)',
        )
        return ()
    promises: list[ShippingPromise] = []
    first_seen: dict[str, str] = {}
    for path, item in check.tables(table, "shipping", "promise", contents) or []:
        promise = _promise(check, path, item)
        if promise.destination in first_seen:
            check.report(
                f"{path}.destination",
                f"repeats destination {promise.destination!r} of "
                f"{first_seen[promise.destination]}; each destination may appear once "
                '("*" covers everywhere else)',
            )
        elif promise.destination:
            first_seen[promise.destination] = path
        promises.append(promise)
    return tuple(promises)


def _promise(check: _Checker, path: str, item: _Table) -> ShippingPromise:
    check.unknown_keys(item, path, _PROMISE_KEYS)
    destination = check.required(item, path, "destination", rules.destination_rule(check.countries()))
    mark = check.mark()
    low = check.required(item, path, "min_days", rules.whole(0, "business days"))
    high = check.required(item, path, "max_days", rules.whole(0, "business days"))
    if check.clean_since(mark) and high < low:
        check.report(
            f"{path}.max_days",
            f"must be a whole number of business days, at least min_days ({low}), got {high}",
        )
    return ShippingPromise(destination, low, high)


def _returns(check: _Checker, root: _Table) -> _Returns:
    contents = "window_days, frontline_refund_limit and a [returns.shipping_payer] table"
    table = check.table(root, "", "returns", contents)
    if table is None:
        return _Returns()
    check.unknown_keys(table, "returns", _RETURNS_KEYS)
    return _Returns(
        window_days=check.required(table, "returns", "window_days", rules.whole(0, "days")),
        refund_limit=check.required(table, "returns", "frontline_refund_limit", rules.AMOUNT),
        payers=_payers(check, table),
    )


@dataclass(frozen=True, slots=True)
class _Review:
    repeat_threshold: int = 3
    repeat_window_days: int = 7
    request_days: int = 14


def _review(check: _Checker, root: _Table) -> _Review:
    """The optional [review] table; a policy without it keeps the defaults."""
    table = root.get("review")
    if not isinstance(table, Mapping):
        if table is not None:
            check.wrong("review", "a [review] table", table)
        return _Review()
    check.unknown_keys(table, "review", _REVIEW_KEYS)
    defaults = _Review()
    threshold = check.optional(table, "review", "repeat_threshold", rules.whole(2, "cases"))
    window = check.optional(table, "review", "repeat_window_days", rules.whole(1, "days"))
    request = check.optional(table, "review", "request_after_delivery_days", rules.whole(0, "days"))
    return _Review(
        repeat_threshold=defaults.repeat_threshold if threshold is None else threshold,
        repeat_window_days=defaults.repeat_window_days if window is None else window,
        request_days=defaults.request_days if request is None else request,
    )


def _retrain_every(check: _Checker, root: _Table) -> int:
    """The optional [learning] table: retrain the store's router model after this many new
    route labels (re-routes and confirmations); 0 never retrains on its own."""
    table = root.get("learning")
    if not isinstance(table, Mapping):
        if table is not None:
            check.wrong("learning", "a [learning] table", table)
        return RETRAIN_EVERY
    check.unknown_keys(table, "learning", ("retrain_every",))
    every = check.optional(table, "learning", "retrain_every", rules.whole(0, "labels"))
    return RETRAIN_EVERY if every is None else every


def _tag_routes(check: _Checker, root: _Table) -> Mapping[str, Route]:
    """The optional [history.tag_routes] table: the old tool's tag and the route it means,
    e.g. ``"Where is my order" = "shipping_delay"``; tags are compared without case."""
    history = check.table(root, "", "history", "a [history.tag_routes] table", required=False)
    if history is None:
        return _NO_TAG_ROUTES
    check.unknown_keys(history, "history", ("tag_routes",))
    contents = 'one line per tag of the old tool: "tag" = "route"'
    table = check.table(history, "history", "tag_routes", contents, required=False)
    if table is None:
        return _NO_TAG_ROUTES
    found: dict[str, Route] = {}
    for tag, route in table.items():
        path = join_key("history.tag_routes", tag)
        if not tag.strip():
            check.report(path, "a tag cannot be empty")
        elif not isinstance(route, str) or route not in _ROUTES:
            check.wrong(path, f"a route name ({', '.join(_ROUTES)})", route)
        elif tag.strip().casefold() in found:
            check.report(path, f"repeats the tag {tag!r} (tags are compared without case)")
        else:
            found[tag.strip().casefold()] = Route(route)
    return MappingProxyType(found)


def _satisfaction(check: _Checker, root: _Table) -> SurveyPolicy:
    """The optional [satisfaction] table: whether the reply that resolves a case carries the
    rating link (on by default), and how many days the link works."""
    table = root.get("satisfaction")
    defaults = SurveyPolicy()
    if not isinstance(table, Mapping):
        if table is not None:
            check.wrong("satisfaction", "a [satisfaction] table", table)
        return defaults
    check.unknown_keys(table, "satisfaction", _SATISFACTION_KEYS)
    survey = check.optional(table, "satisfaction", "survey", rules.FLAG)
    days = check.optional(table, "satisfaction", "link_days", rules.whole(1, "days"))
    return SurveyPolicy(
        survey=defaults.survey if survey is None else survey,
        link_days=defaults.link_days if days is None else days,
    )


def _reader(check: _Checker, root: _Table) -> ReaderPolicy:
    """The optional [reader] table (the language-model and semantic readers); absent: the defaults."""
    table = root.get("reader")
    defaults = ReaderPolicy()
    if not isinstance(table, Mapping):
        if table is not None:
            check.wrong("reader", "a [reader] table", table)
        return defaults
    check.unknown_keys(table, "reader", _READER_KEYS)
    use = check.optional(table, "reader", "use", rules.READER_USE)
    timeout = check.optional(table, "reader", "timeout_seconds", rules.SECONDS)
    redact = check.optional(table, "reader", "redact", rules.FLAG)
    per_minute = check.optional(table, "reader", "per_minute", rules.whole(1, "requests a minute"))
    semantic = check.optional(table, "reader", "semantic", rules.FLAG)
    return ReaderPolicy(
        use=defaults.use if use is None else use,
        timeout_seconds=defaults.timeout_seconds if timeout is None else timeout,
        redact=defaults.redact if redact is None else redact,
        per_minute=defaults.per_minute if per_minute is None else per_minute,
        semantic=defaults.semantic if semantic is None else semantic,
    )


def _payers(check: _Checker, table: _Table) -> Mapping[ReturnReason, Payer]:
    contents = f"one key per return reason ({', '.join(_REASONS)}) set to 'store' or 'customer'"
    payers = check.table(table, "returns", "shipping_payer", contents)
    if payers is None:
        return {}
    path = "returns.shipping_payer"
    check.unknown_keys(payers, path, _REASONS, "return reason")
    return MappingProxyType(
        {ReturnReason(reason): check.required(payers, path, reason, rules.PAYER) for reason in _REASONS}
    )


def _leads(check: _Checker, root: _Table) -> Mapping[str, Lead]:
    table = check.table(root, "", "leads", f"one [leads.<role>] table per role: {rules.ROLE_LIST}")
    if table is None:
        return {}
    check.unknown_keys(table, "leads", LEAD_ROLES, "role")
    leads: dict[str, Lead] = {}
    for role in LEAD_ROLES:
        person = check.table(table, "leads", role, "name and email of the person in that role")
        if person is not None:
            path = f"leads.{role}"
            check.unknown_keys(person, path, _LEAD_KEYS)
            name = check.required(person, path, "name", rules.TEXT)
            leads[role] = Lead(role, name, check.required(person, path, "email", rules.EMAIL))
    return MappingProxyType(leads)


def _replies(check: _Checker, root: _Table) -> Mapping[str, Mapping[Route, str]]:
    """The optional [replies.<language>] tables: a route's first reply written in another
    language (``fr``, ``de``, ...), drafted for customers who write in it."""
    table = check.table(root, "", "replies", "one [replies.<language>] table per language", required=False)
    if table is None:
        return _NOTHING_BY_LANGUAGE
    found: dict[str, Mapping[Route, str]] = {}
    for language, replies in table.items():
        path = f"replies.{language}"
        if rules.LANGUAGE.convert(language) is None:
            check.report(path, f"{language!r} is not a language: {rules.LANGUAGE.allowed}")
            continue
        if not isinstance(replies, dict):
            check.wrong(path, "a table of route = first reply template", replies)
            continue
        check.unknown_keys(replies, path, _ROUTES)
        templates = {route: check.optional(replies, path, route, rules.TEXT) for route in _ROUTES}
        found[language] = MappingProxyType({Route(r): t for r, t in templates.items() if t})
    return MappingProxyType(found)


_NO_TAG_ROUTES: Mapping[str, Route] = MappingProxyType({})


def _routes(check: _Checker, root: _Table) -> Mapping[Route, Mapping[str, object]]:
    contents = "one optional [routes.<route>] table per route to override"
    table = check.table(root, "", "routes", contents, required=False)
    if table is None:
        return _NOTHING  # read-only: default_policy() is cached and shared
    overrides: dict[Route, Mapping[str, object]] = {}
    for key, value in table.items():
        if key in _ROUTES:
            overrides[Route(key)] = _route(check, key, value)
        else:
            check.report(f"routes.{key}", rules.unknown(key, _ROUTES, "route"))
    return MappingProxyType(overrides)


def _route(check: _Checker, route: str, value: object) -> Mapping[str, object]:
    """Overrides shaped like RouteSpec fields, so a caller can ``dataclasses.replace`` them."""
    path = f"routes.{route}"
    if not isinstance(value, dict):
        check.wrong(path, f"a table of route fields to override: {', '.join(_ROUTE_KEYS)}", value)
        return {}
    check.unknown_keys(value, path, _ROUTE_KEYS)
    texts = {name: check.optional(value, path, name, rules.TEXT) for name in _ROUTE_TEXTS}
    found: dict[str, object | None] = dict(texts)
    found["lead"] = check.optional(value, path, "lead", rules.ROLE)
    found["write_back"] = check.values(value, path, "write_back", rules.TEXT)
    found["evidence"] = _evidence(check, path, value)
    return MappingProxyType({name: v for name, v in found.items() if v is not None})


def _evidence(check: _Checker, route_path: str, route: _Table) -> tuple[EvidenceSpec, ...] | None:
    found = check.tables(route, route_path, "evidence", "key, label and optional detected_by")
    if found is None:
        return None
    evidence: list[EvidenceSpec] = []
    first_seen: dict[str, str] = {}
    for path, item in found:
        check.unknown_keys(item, path, _EVIDENCE_KEYS)
        key = check.required(item, path, "key", rules.EVIDENCE_KEY)
        if key in first_seen:
            check.report(
                f"{path}.key",
                f"repeats key {key!r} of {first_seen[key]}; each key may appear once in a route",
            )
        elif key:
            first_seen[key] = path
        label = check.required(item, path, "label", rules.TEXT)
        evidence.append(EvidenceSpec(key, label, check.optional(item, path, "detected_by", rules.DETECTED)))
    return tuple(evidence)
