"""`aftersales reread`: the cases a file's intake routed by their words alone, read by meaning."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from aftersales.services.rereading import NoSemanticReader, reread
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk

_ALL = 10**9


@click.command("reread")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Read at most this many cases (oldest first); default: every waiting case.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def reread_command(settings: Settings, limit: int | None, *, as_json: bool) -> None:
    """Read again by meaning the cases `aftersales intake` routed by their words alone.

    A file's intake leaves the semantic reader out for speed and marks the cases it would
    have read. `aftersales worker` and `serve` read them in the background (a few hundred a
    minute); this reads them now. A case that moves to another route is planned again
    (evidence, lead, decision, draft, clocks) and carries "check the route"; one a person has
    answered, re-routed or confirmed, or that is closed, is left as it is.

    \b
    Example:
      aftersales intake backlog.mbox   # "1,240 cases ... wait for the semantic reader"
      aftersales reread                # "read 1,240 cases again by meaning: 212 changed route"
    """
    kit = build_routing_kit(settings)
    desk = open_desk(settings)
    show = sys.stderr.isatty() and not as_json
    try:
        result = reread(
            desk.uow,
            kit,
            now=datetime.now(UTC),
            limit=limit or _ALL,
            progress=(lambda n: click.echo(f"\r{n} cases read", err=True, nl=False)) if show else None,
        )
    except NoSemanticReader as error:
        raise click.ClickException(
            f"{error}: install it with `pip install 'aftersales[semantic]'`, or set "
            "[reader] semantic = true in the store policy"
        ) from None
    finally:
        desk.close()
    if show:
        click.echo("\r", err=True, nl=False)
    if as_json:
        click.echo(json.dumps({"read": result.read, "rerouted": result.rerouted, "left": result.left}))
        return
    click.echo(
        f"read {result.read} cases again by meaning: {result.rerouted} changed route "
        f"(each marked 'check the route'); {result.left} still waiting"
    )
