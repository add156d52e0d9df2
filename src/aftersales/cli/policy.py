"""`aftersales policy`: write a commented default policy, check a store's policy file, and
keep versions of the published refund, return and shipping policy texts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from aftersales.adapters.business_calendar.holidays import calendar_for
from aftersales.adapters.policy.file import PolicyError, default_policy_text, load_policy
from aftersales.domain.errors import ConfigError, InputError
from aftersales.domain.policy_texts import PolicyKind, PolicyVersion, checked_text
from aftersales.domain.routes import Route
from aftersales.domain.saved_replies import ANY_ROUTE
from aftersales.services.policy_versions import (
    AddedTexts,
    PolicyTextUnitOfWork,
    add_policy_texts,
    policy_version,
    policy_versions,
    version_in_force,
)
from aftersales.services.saved_replies import saved_replies_for
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, load_active_policy, open_desk, store_specs


@click.group()
def policy() -> None:
    """Write and check the store policy file (TOML).

    The policy holds the store's name, time zone, holidays, business hours, SLA targets per
    route, shipping promise windows, the return window, who pays return shipping, the
    frontline refund limit and the leads. Any route's text can be overridden there too.
    `aftersales policy texts` keeps versions of the refund, return and shipping policy texts
    the store publishes, which orders are linked to.
    """


@policy.command("init")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), default="policy.toml")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(*, path: Path, force: bool) -> None:
    """Write the commented default policy to PATH (default: ./policy.toml) to edit."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; pass --force to overwrite it")
    path.write_text(default_policy_text(), encoding="utf-8")
    click.echo(f"wrote {path}: edit it, then run `aftersales policy check {path}`")


@policy.command("check")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print {ok, problems[{line, key, message}]} as JSON.")
def check(*, path: Path, as_json: bool) -> None:
    """Validate a policy file; every problem names the line, the key and what is allowed.

    Exits 0 when the file is usable, 2 when it is not.
    """
    try:
        store = load_policy(path)
        specs = store_specs(store)
        calendar_for(store)
    except PolicyError as error:
        _report(path, [(p.line, p.key, p.message) for p in error.problems], as_json=as_json)
        raise SystemExit(2) from None
    except (ConfigError, ValueError) as error:  # a route override, the calendar
        _report(path, [(None, "", str(error))], as_json=as_json)
        raise SystemExit(2) from None
    if as_json:
        click.echo(json.dumps({"ok": True, "file": str(path), "problems": []}))
        return
    overridden = [r.value for r in Route if store.route_overrides.get(r) or store.sla_overrides.get(r)]
    click.echo(
        f"{path}: ok. {store.store_name}, {store.time_zone}, holidays {store.country}"
        f"{'/' + store.subdivision if store.subdivision else ''}; {len(specs)} routes"
        f"{' (overridden: ' + ', '.join(overridden) + ')' if overridden else ''}."
    )


def _report(path: Path, problems: list[tuple[int | None, str, str]], *, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": False,
                    "file": str(path),
                    "problems": [
                        {"line": line, "key": key, "message": message} for line, key, message in problems
                    ],
                }
            )
        )
        return
    for line, key, message in problems:
        where = f"{path}:{line}" if line else str(path)
        click.echo(f"{where}: {key + ': ' if key else ''}{message}", err=True)
    click.echo(f"{path}: {len(problems)} problem(s); the file was not used.", err=True)


# ---------------------------------------------------------------- saved replies


@policy.command("saved-replies")
@click.option(
    "--route", type=click.Choice([r.value for r in Route]), help="Only those offered on this route."
)
@click.option("--language", metavar="CODE", help="Only those in this language (ISO 639-1, e.g. fr).")
@click.option(
    "--case",
    "case_id",
    type=click.IntRange(min=1),
    help="Filled in for this case, as the composer offers them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print them as a JSON list.")
@click.pass_obj
def saved_replies(
    settings: Settings, *, route: str | None, language: str | None, case_id: int | None, as_json: bool
) -> None:
    """List the saved replies of the active policy ([[saved_replies]]): name, route, language
    and text. With --case, those the case page offers on that case, filled in with its facts.

    \b
    Examples:
      aftersales policy saved-replies
      aftersales policy saved-replies --route shipping_delay --language fr
      aftersales policy saved-replies --case 12 --json
    """
    rows: list[dict[str, Any]]
    if case_id is not None:
        kit = build_routing_kit(settings)
        rows = [
            r.as_dict()
            for r in saved_replies_for(open_desk(settings).read, kit, case_id, now=datetime.now(UTC))
        ]
    else:
        rows = [
            {"name": s.name, "route": s.route_name, "language": s.language, "text": s.text}
            for s in load_active_policy(settings).saved_replies
        ]
    rows = [
        r
        for r in rows
        if (route is None or r["route"] in (route, ANY_ROUTE))
        and (language is None or r["language"] == language)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no saved replies: add [[saved_replies]] to the policy (docs/configuration.md)")
    for row in rows:
        missing = f"  (no value for: {', '.join(row['missing'])})" if row.get("missing") else ""
        click.echo(f"--- {row['name']}  [{row['route']}, {row['language']}]{missing}\n{row['text']}\n")


# ---------------------------------------------------------------- policy text versions

_TEXT_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)


@policy.group("texts")
def texts() -> None:
    """Versions of the store's published refund, return and shipping policy texts.

    Each version has a number (v1, v2 …), a SHA-256 of its texts and the time it takes effect;
    every order is linked to the version in force when it was placed (the "policy page
    version" evidence of a dispute or a return).

    \b
    Examples:
      aftersales policy texts add --return returns.md --refund refunds.html --shipping shipping.md
      aftersales policy texts add --return returns-2027.md --effective 2027-01-01
      aftersales policy texts list
      aftersales policy texts show v2
    """


@texts.command("add")
@click.option("--refund", "refund_file", type=_TEXT_FILE, help="The refund policy text (UTF-8).")
@click.option("--return", "return_file", type=_TEXT_FILE, help="The return policy text (UTF-8).")
@click.option("--shipping", "shipping_file", type=_TEXT_FILE, help="The shipping policy text (UTF-8).")
@click.option(
    "--effective",
    metavar="ISO-TIME",
    help="When the texts take effect (default: now); without an offset, in the store's time zone.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def add_texts(
    settings: Settings,
    *,
    refund_file: Path | None,
    return_file: Path | None,
    shipping_file: Path | None,
    effective: str | None,
    as_json: bool,
) -> None:
    """Store the policy texts published on the store, as a new version when they changed.

    Files are the texts as the store publishes them (plain text, Markdown or HTML). Kinds not
    given carry over from the version in force at the effective time; texts identical to that
    version add nothing. Orders placed from the effective time on are relinked to the version
    in force when each was placed. Warns when the return policy does not state the return
    window, who pays return shipping or the proof required.

    \b
    Examples:
      aftersales policy texts add --return returns.md --refund refunds.html --shipping shipping.md
      aftersales policy texts add --shipping shipping.md --effective 2026-12-01T00:00:00-05:00 --json
    """
    files = {
        PolicyKind.REFUND: refund_file,
        PolicyKind.RETURN: return_file,
        PolicyKind.SHIPPING: shipping_file,
    }
    changes = {kind: _read_text(kind, path) for kind, path in files.items() if path is not None}
    if not changes:
        raise click.UsageError("give at least one of --refund, --return, --shipping")
    now = datetime.now(UTC)
    at = _effective_time(settings, effective) if effective else now
    outcome = add_policy_texts(_policy_texts(settings), changes, effective_at=at, now=now, by="command line")
    _report_added(outcome, as_json=as_json)


@texts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as a JSON list.")
@click.pass_obj
def list_texts(settings: Settings, *, as_json: bool) -> None:
    """List the policy text versions, oldest first, marking the one in force now.

    \b
    Example:
      aftersales policy texts list --json
    """
    uow = _policy_texts(settings)
    versions = policy_versions(uow)
    current = version_in_force(uow, datetime.now(UTC))
    if as_json:
        click.echo(json.dumps([_version_dict(v, in_force=v == current) for v in versions], indent=2))
        return
    if not versions:
        click.echo("no policy texts yet: add them with `aftersales policy texts add`")
    for version in versions:
        kinds = ", ".join(kind.value for kind in version.texts.texts)
        marker = "  (in force)" if version == current else ""
        click.echo(
            f"{version.label}  effective {version.effective_at.isoformat()}  "
            f"sha256 {version.sha256[:12]}  {kinds}{marker}"
        )


@texts.command("show")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True, help="Print the version and its texts as JSON.")
@click.pass_obj
def show_texts(settings: Settings, *, version: str, as_json: bool) -> None:
    """Print one version's texts (VERSION: 3 or v3), each under its kind.

    \b
    Example:
      aftersales policy texts show v2
    """
    found = policy_version(_policy_texts(settings), version)
    if as_json:
        click.echo(json.dumps(_version_dict(found) | {"texts": _texts_dict(found)}, indent=2))
        return
    click.echo(
        f"{found.label}: effective {found.effective_at.isoformat()}, added {found.added_at.isoformat()}"
    )
    click.echo(f"sha256 {found.sha256}")
    for kind, text in found.texts.texts.items():
        click.echo(f"\n--- {kind.value} policy ---\n{text}")


def _policy_texts(settings: Settings) -> PolicyTextUnitOfWork:
    return open_desk(settings).policy_texts


def _read_text(kind: PolicyKind, path: Path) -> str:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"the {kind.value} policy file is not UTF-8 text", str(path)) from None
    except OSError as error:
        raise InputError(f"cannot read the {kind.value} policy file: {error.strerror}", str(path)) from None
    return checked_text(kind, raw, str(path))


def _effective_time(settings: Settings, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--effective {value!r} is not a time like 2026-12-01 or 2026-12-01T00:00:00-05:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(load_active_policy(settings).time_zone))
    return moment


def _report_added(outcome: AddedTexts, *, as_json: bool) -> None:
    if as_json:
        data = _version_dict(outcome.version) | {
            "added": outcome.added,
            "relinked_orders": outcome.relinked,
            "warnings": list(outcome.warnings),
        }
        click.echo(json.dumps(data, indent=2))
        return
    version = outcome.version
    if outcome.added:
        click.echo(
            f"added {version.label}, effective {version.effective_at.isoformat()}; "
            f"{outcome.relinked} orders relinked"
        )
    else:
        click.echo(f"unchanged: the texts are those of {version.label}")
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)


def _version_dict(version: PolicyVersion, *, in_force: bool | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "version": version.label,
        "number": version.version,
        "sha256": version.sha256,
        "kinds": [kind.value for kind in version.texts.texts],
        "effective_at": version.effective_at.isoformat(),
        "added_at": version.added_at.isoformat(),
        "added_by": version.added_by,
    }
    if in_force is not None:
        data["in_force"] = in_force
    return data


def _texts_dict(version: PolicyVersion) -> dict[str, str]:
    return {kind.value: text for kind, text in version.texts.texts.items()}
