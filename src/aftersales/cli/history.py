"""`aftersales import history FILE_OR_FOLDER`: another tool's past conversations into the desk
as imported cases (docs/history-import.md)."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import click

from aftersales.adapters.files.history.readers import read_history
from aftersales.domain.history import HistoryFormat
from aftersales.domain.history_import import TagSuggestion, tag_routes_toml
from aftersales.services.history_import import HistorySummary, import_history, tag_suggestions
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk

_SHOWN_BAD = 20
_FORMATS = ["auto", *(f.value for f in HistoryFormat)]


@click.command("history")
@click.argument("path", metavar="FILE_OR_FOLDER", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--format",
    "history_format",
    type=click.Choice(_FORMATS),
    default="auto",
    show_default=True,
    help="The tool the export comes from; auto tells it from the file.",
)
@click.option(
    "--since",
    metavar="DATE",
    help="Only conversations opened on or after DATE (YYYY-MM-DD, midnight UTC, or an ISO time with an offset).",
)
@click.option(
    "--store-address",
    "store_addresses",
    metavar="EMAIL",
    multiple=True,
    help="An mbox: an address the store wrote from (its mail there are replies). Repeatable; "
    "default: the policy's support address and the IMAP login.",
)
@click.option("--dry-run", is_flag=True, help="Read, route and count everything; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--suggest-tag-routes",
    is_flag=True,
    help="Print the tags by frequency with a suggested route each, and the TOML to paste; imports nothing.",
)
@click.pass_obj
def history_command(  # noqa: PLR0913  (one keyword per option)
    settings: Settings,
    *,
    path: Path,
    history_format: str,
    since: str | None,
    store_addresses: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    suggest_tag_routes: bool,
) -> None:
    """Import past conversations from another tool: our JSON-lines format, or a Zendesk,
    Gorgias, Help Scout or Freshdesk export, or an mbox of the old shared inbox.

    Each conversation becomes a case with its customer, order, messages, notes and
    timeline, closed or open as it was, marked as imported. No acknowledgement, review
    request or any other mail is ever sent for it, and no SLA breach is raised: its
    first-response and resolution hours are recorded as history. Importing the same file
    again changes nothing (a later export of a conversation adds its new messages). A bad
    record is reported with its line and skipped; the exit status is 0 when the file was
    read, 2 when it cannot be.

    A tag mapped in the policy's [history.tag_routes] routes its conversations and makes
    them labelled examples for `aftersales train --from-desk`; --suggest-tag-routes drafts
    that table.

    \b
    Examples:
      aftersales import history past.jsonl --dry-run
      aftersales import history past.jsonl
      aftersales import history exports/ --format zendesk --since 2025-01-01
      aftersales import history past.jsonl --suggest-tag-routes
      aftersales import history old-inbox.mbox --store-address help@store.example
    """
    chosen = None if history_format == "auto" else HistoryFormat(history_format)
    since_at = _since(since)
    # closed cases of the past: their routes feed the trends, so the words alone (fast) read them
    kit = dataclasses.replace(build_routing_kit(settings), semantic=None)
    show_progress = sys.stderr.isatty() and not as_json
    records = read_history(path, chosen, store_addresses=store_addresses or _own_addresses(settings, kit))
    if suggest_tag_routes:
        suggestions, read = tag_suggestions(kit, records, since=since_at)
        _print_suggestions(suggestions, read, as_json=as_json)
        return
    desk = open_desk(settings)
    summary = import_history(
        desk.read_history if dry_run else desk.history,
        kit,
        records,
        now=datetime.now(UTC),
        since=since_at,
        dry_run=dry_run,
        progress=_progress if show_progress else None,
    )
    if show_progress:
        click.echo("", err=True)
    _report(path, summary, as_json=as_json)
    if summary.bad and not (summary.imported or summary.already or summary.extended or summary.older):
        # not one record was a conversation: most likely the wrong file or --format
        raise click.ClickException(f"nothing imported: all {summary.skipped} records of {path} are bad")


def _own_addresses(settings: Settings, kit: RoutingKit) -> list[str]:
    """Where the store writes from today: the policy's support address, the IMAP login."""
    login = settings.imap.user if settings.imap is not None else ""
    return [address for address in (kit.policy.support_email, login) if "@" in address]


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        if len(value.strip()) == len("2025-01-01"):
            return datetime.combine(date.fromisoformat(value.strip()), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date, e.g. 2025-01-01", param_hint="--since") from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} needs a UTC offset, e.g. 2025-01-01T00:00:00+00:00", param_hint="--since"
        )
    return moment


def _progress(read: int) -> None:
    click.echo(f"\r{read:,} records read", err=True, nl=False)


def _report(path: Path, summary: HistorySummary, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"path": str(path), **summary.as_dict()}, indent=2))
        return
    head = "dry run, nothing written: would import" if summary.dry_run else "imported"
    click.echo(
        f"{path}: {head} {_count(summary.imported, 'conversation')} ({_count(summary.messages, 'message')}, "
        f"{_count(summary.notes, 'note')}); {summary.already} already there"
        + (f", {summary.extended} with new messages added" if summary.extended else "")
        + (f", {summary.older} older than --since" if summary.older else "")
        + f"; {summary.skipped} skipped"
    )
    if summary.labels:
        click.echo(
            f"{summary.labels} conversations routed by [history.tag_routes] are labelled examples now "
            "(`aftersales train --from-desk` learns from them)"
        )
    if summary.bad:
        rest = "the others would be imported" if summary.dry_run else "the others are imported"
        click.echo(f"skipped {_count(summary.skipped, 'bad record')} ({rest}):")
        for record in summary.bad[:_SHOWN_BAD]:
            click.echo(f"  {record.where}: {record.problem}")
        if summary.skipped > _SHOWN_BAD:
            click.echo(f"  ... and {summary.skipped - _SHOWN_BAD} more (--json lists them all)")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _print_suggestions(suggestions: list[TagSuggestion], read: HistorySummary, *, as_json: bool) -> None:
    if as_json:
        rows = [
            {
                "tag": s.tag,
                "conversations": s.conversations,
                "route": s.route.value,
                "share": round(s.share, 4),
            }
            for s in suggestions
        ]
        bad = [{"where": b.where, "problem": b.problem} for b in read.bad]
        click.echo(
            json.dumps({"tags": rows, "toml": tag_routes_toml(suggestions), "bad_records": bad}, indent=2)
        )
        return
    if not suggestions:
        click.echo("no conversation carries a tag: there is nothing to map")
    else:
        width = max(len(s.tag) for s in suggestions)
        click.echo(f"{'tag':<{width}}  conversations  suggested route (share of its conversations)")
        for s in suggestions:
            click.echo(f"{s.tag:<{width}}  {s.conversations:>13}  {s.route.value} ({s.share:.0%})")
        click.echo("\nPaste into the policy file, keeping the lines you agree with:\n")
        click.echo(tag_routes_toml(suggestions), nl=False)
    if read.bad:
        click.echo(f"\n({read.skipped} bad records skipped; the import lists them)")
