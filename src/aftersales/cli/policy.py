"""`aftersales policy`: write a commented default policy, and check a store's policy file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from aftersales.adapters.holidays_calendar import calendar_for
from aftersales.adapters.policy_file import PolicyError, default_policy_text, load_policy
from aftersales.domain.routes import Route
from aftersales.domain.routing.specs import RouteSpecError
from aftersales.wiring import store_specs


@click.group()
def policy() -> None:
    """Write and check the store policy file (TOML).

    The policy holds the store's name, time zone, holidays, business hours, SLA targets per
    route, shipping promise windows, the return window, who pays return shipping, the
    frontline refund limit and the leads. Any route's text can be overridden there too.
    """


@policy.command("init")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), default="policy.toml")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, force: bool) -> None:
    """Write the commented default policy to PATH (default: ./policy.toml) to edit."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; pass --force to overwrite it")
    path.write_text(default_policy_text(), encoding="utf-8")
    click.echo(f"wrote {path}: edit it, then run `aftersales policy check {path}`")


@policy.command("check")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print {ok, problems[{line, key, message}]} as JSON.")
def check(path: Path, as_json: bool) -> None:
    """Validate a policy file; every problem names the line, the key and what is allowed.

    Exits 0 when the file is usable, 2 when it is not.
    """
    try:
        store = load_policy(path)
        specs = store_specs(store)
        calendar_for(store)
    except PolicyError as error:
        _report(path, [(p.line, p.key, p.message) for p in error.problems], as_json)
        raise SystemExit(2) from None
    except (RouteSpecError, ValueError) as error:
        _report(path, [(None, "", str(error))], as_json)
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


def _report(path: Path, problems: list[tuple[int | None, str, str]], as_json: bool) -> None:
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
