"""`aftersales eval routing FILE.jsonl`: how well a reader routes a labelled set of messages."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from aftersales.cli.options import policy_option, with_policy
from aftersales.cli.pasted import sender_text
from aftersales.domain.errors import ConfigError, InputError
from aftersales.domain.evaluation import (
    MIN_SUPPORT,
    FlagLabel,
    FlagScore,
    RoutingScores,
    percentile,
    score_flags,
    score_routing,
)
from aftersales.domain.routes import Route
from aftersales.domain.signals import FLAG_NAMES
from aftersales.services.routing import RoutingKit, read_text, usable_text
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_ROUTE_NAMES = ", ".join(r.value for r in Route)
_FLAG_NAMES = ", ".join(FLAG_NAMES)


@dataclass(frozen=True, slots=True)
class Labelled:
    line: int
    id: str
    text: str
    route: Route
    flags_stated: frozenset[str] = frozenset()  # the flags the line says are set or not
    flags: frozenset[str] = frozenset()  # the flags it says are set


@dataclass
class Run:
    pairs: list[tuple[Route, Route]] = field(default_factory=list)
    flags: list[FlagLabel] = field(default_factory=list)
    read_by: Counter[str] = field(default_factory=Counter)
    fallbacks: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)  # per message the second reader read


@click.group("eval")
def eval_group() -> None:
    """Measure the router on labelled messages."""


@eval_group.command("routing")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--reader",
    type=click.Choice(["local", "llm"]),
    default="local",
    show_default=True,
    help="local: the offline reader; llm: the language model reads every message (AFTERSALES_LLM_*).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the tables.")
@policy_option
@click.pass_obj
def routing(settings: Settings, *, file: Path, reader: str, as_json: bool, policy_file: Path | None) -> None:
    """Route every line of FILE ({"text", "route", "id"?} per line) and compare with its label:
    macro-F1, accuracy, per-route precision and recall, the confusion matrix.

    A line may label flags too, as a list of the flags set ("flags": ["angry"]: every other
    flag is labelled not set) or one by one ("angry": true, "threatens_dispute": false); each
    flag a line labels gets its recall and precision over the lines that label it.

    \b
    Examples:
      aftersales eval routing labelled.jsonl
      aftersales eval routing labelled.jsonl --reader llm --json
    """
    settings = with_policy(settings, policy_file)
    if reader == "llm" and settings.llm is None:
        raise ConfigError(
            "--reader llm needs a chat-completions server: set AFTERSALES_LLM_BASE_URL and AFTERSALES_LLM_MODEL"
        )
    if reader == "local":
        settings = dataclasses.replace(settings, llm=None)
    kit = build_routing_kit(settings, reader_use="always")
    items, bad = _read_labelled(file)
    for problem in bad:
        click.echo(f"{file}: {problem}", err=True)
    if not items:
        raise InputError(
            f"no usable line ({len(bad)} bad); each line is a JSON object with text and route", str(file)
        )
    run = _route_all(kit, items)
    scores = score_routing(run.pairs)
    if as_json:
        click.echo(json.dumps(_as_dict(file, reader, scores, run, bad), ensure_ascii=False, indent=2))
    else:
        click.echo(_as_text(file, reader, scores, run, len(bad)))


def _read_labelled(path: Path) -> tuple[list[Labelled], list[str]]:
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InputError(f"cannot read the file: {error.strerror}", str(path)) from None
    items: list[Labelled] = []
    bad: list[str] = []
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                items.append(_labelled(number, line))
            except ValueError as error:
                bad.append(f"line {number}: {error}")
    return items, bad


def _labelled(number: int, line: str) -> Labelled:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError('expected an object with "text" and "route"')
    text, route = data.get("text"), data.get("route")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    try:
        usable_text(text)
    except InputError as error:
        raise ValueError(error.problem) from None
    if route not in {r.value for r in Route}:
        raise ValueError(f'"route" {route!r} is not a route; use one of {_ROUTE_NAMES}')
    stated, flags = _flags(data)
    return Labelled(number, str(data.get("id", number)), text, Route(route), stated, flags)


def _flags(data: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """(the flags the line labels, the flags it labels set), from a "flags" list or one key a flag."""
    listed = data.get("flags")
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(flag, str) for flag in listed):
            raise ValueError('"flags" must be a list of flag names')
        unknown = sorted(set(listed) - set(FLAG_NAMES))
        if unknown:
            raise ValueError(f'"flags" names {unknown[0]!r}, not a flag; use {_FLAG_NAMES}')
        return frozenset(FLAG_NAMES), frozenset(listed)
    stated = {name: data[name] for name in FLAG_NAMES if name in data}
    for name, value in stated.items():
        if not isinstance(value, bool):
            raise ValueError(f'"{name}" must be true or false')
    return frozenset(stated), frozenset(name for name, value in stated.items() if value)


def _route_all(kit: RoutingKit, items: list[Labelled]) -> Run:
    run = Run()
    for item in items:
        started = time.perf_counter()
        routing, _, reading = read_text(kit, sender_text(item.text))
        if kit.reader is not None:
            run.seconds.append(time.perf_counter() - started)
        run.pairs.append((item.route, routing.route))
        run.flags.append(FlagLabel(item.flags_stated, item.flags, reading.flags))
        run.read_by[reading.read_by] += 1
        if reading.read_by == "local_fallback":
            run.fallbacks[_reason(reading.note)] += 1
    return run


def _reason(note: str) -> str:
    """A fallback's reason without the words quoted from one answer, so like ones count together."""
    return _QUOTED.sub("…", note.removeprefix("language model not used: "))


def _latency(run: Run) -> dict[str, float]:
    return {
        "p50": round(percentile(run.seconds, 0.5) * 1000, 1),
        "p95": round(percentile(run.seconds, 0.95) * 1000, 1),
    }


def _as_dict(file: Path, reader: str, scores: RoutingScores, run: Run, bad: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file": str(file),
        "reader": reader,
        "messages": scores.total,
        "bad_lines": bad,
        "accuracy": round(scores.accuracy, 4),
        "macro_f1": round(scores.macro_f1(MIN_SUPPORT), 4),
        "macro_f1_min_support": MIN_SUPPORT,
        "macro_f1_routes": scores.routes_with(MIN_SUPPORT),
        "macro_f1_all": round(scores.macro_f1(), 4),
        "routes": {
            r.route.value: {
                "support": r.support,
                "predicted": r.predicted,
                "precision": round(r.precision, 4),
                "recall": round(r.recall, 4),
                "f1": round(r.f1, 4),
            }
            for r in scores.routes
        },
        "confusion": {
            labelled.value: {got.value: n for (want, got), n in scores.confusion.items() if want is labelled}
            for labelled in (r.route for r in scores.routes)
            if any(want is labelled for want, _ in scores.confusion)
        },
        "flags": {
            f.flag: {
                "labelled": f.stated,
                "set": f.labelled,
                "raised": f.raised,
                "recall": round(f.recall, 4),
                "precision": round(f.precision, 4),
            }
            for f in score_flags(run.flags)
        },
        "read_by": dict(run.read_by),
    }
    if reader == "llm":
        data["latency_ms"] = _latency(run)
        data["fallbacks"] = dict(run.fallbacks.most_common())
    return data


def _as_text(file: Path, reader: str, scores: RoutingScores, run: Run, bad: int) -> str:
    wide = scores.routes_with(MIN_SUPPORT)
    lines = [
        f"{file}: {scores.total:,} messages read by the {reader} reader"
        + (f" ({bad} bad lines skipped)" if bad else ""),
        f"macro-F1 {scores.macro_f1(MIN_SUPPORT):.3f} over the {wide} routes with {MIN_SUPPORT}+ examples"
        if wide
        else f"macro-F1: no route has {MIN_SUPPORT}+ examples",
        f"macro-F1 {scores.macro_f1():.3f} over all {sum(1 for r in scores.routes if r.support)} routes present",
        f"accuracy {scores.accuracy:.3f} ({scores.correct:,} of {scores.total:,})",
        "",
        f"{'route':<18}{'n':>6}{'read as':>9}{'precision':>11}{'recall':>8}{'F1':>7}",
        *(
            f"{r.route.value:<18}{r.support:>6}{r.predicted:>9}{r.precision:>11.3f}{r.recall:>8.3f}{r.f1:>7.3f}"
            for r in scores.routes
        ),
        "",
        *_confusion_lines(scores),
        *_flag_lines(score_flags(run.flags)),
    ]
    if reader == "llm":
        latency = _latency(run)
        lines += [
            "",
            f"read by: {', '.join(f'{k} {v}' for k, v in sorted(run.read_by.items()))}",
            f"latency per message: p50 {latency['p50']:g} ms, p95 {latency['p95']:g} ms",
            *(f"fallback x{n}: {reason}" for reason, n in run.fallbacks.most_common()),
        ]
    return "\n".join(lines)


def _flag_lines(flags: tuple[FlagScore, ...]) -> Iterator[str]:
    if not flags:
        return
    yield ""
    yield f"{'flag (lines labelling it)':<30}{'set':>6}{'raised':>8}{'recall':>8}{'precision':>11}"
    for f in flags:
        yield f"{f'{f.flag} ({f.stated})':<30}{f.labelled:>6}{f.raised:>8}{f.recall:>8.3f}{f.precision:>11.3f}"


def _confusion_lines(scores: RoutingScores) -> Iterator[str]:
    routes = [r.route for r in scores.routes]
    yield "confusion (rows: labelled; columns: read as, by the first three letters of the route)"
    yield " " * 18 + "".join(f"{r.value[:3]:>6}" for r in routes)
    for labelled in routes:
        cells = "".join(f"{scores.confusion.get((labelled, got), 0) or '.':>6}" for got in routes)
        yield f"{labelled.value:<18}{cells}"
