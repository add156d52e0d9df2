"""`aftersales intake PATH`: .eml files, mbox files, folders of them and JSONL, into cases."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from aftersales.adapters.mail.message_files import MessageReader
from aftersales.cli.options import policy_option, with_policy
from aftersales.domain.messages import ParseProblem
from aftersales.jobs.bulk_intake import POOL_MIN_MESSAGES, Prepared, prepared_messages
from aftersales.ports import UnitOfWork
from aftersales.services.intake import Incoming, Quarantined, take_in_few
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import Desk, build_routing_kit, open_desk

_SHOWN_FAILURES = 20
# Messages parsed and routed, then stored in one short transaction: at most this many, and at
# most this many bytes of them. The write lock is held only while they are stored (tens of
# milliseconds: a chunk is a couple of dozen statements, services/intake.py::take_in_few),
# and a commit per message would double intake's time.
_FEW = 100
_FEW_BYTES = 8 * 1024 * 1024


@click.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Worker processes that parse and route messages while this one stores them "
    f"(0: do it all in this process). Inputs under {POOL_MIN_MESSAGES} messages start none.",
)
@click.option(
    "--semantic",
    is_flag=True,
    help="Let the semantic reader read the messages whose words leave the router unsure, "
    "now (about 40 ms each: a mailbox imports at less than half the speed). Without it they "
    "are routed by their words, and their cases are read again by meaning afterwards: by "
    "`aftersales worker` or `serve` in the background, or by `aftersales reread`.",
)
@policy_option
@click.pass_obj
def intake(  # noqa: PLR0913  (each option is a keyword)
    settings: Settings, *, path: Path, as_json: bool, workers: int, semantic: bool, policy_file: Path | None
) -> None:
    """Take in customer messages from PATH: an .eml file, an mbox file, a folder, or JSONL.

    Each message is screened (auto-replies, mailing lists and delivery reports go to a
    separate bucket), deduplicated (Message-ID plus a hash of sender, date and body), threaded
    into its open case (In-Reply-To/References, "[case N]", or the same customer and order) or
    opens a new one, and is routed with its clocks started. A message that cannot be read is
    quarantined with its reason and never stops the rest. Running it again on the same input
    changes nothing: interrupted runs can simply be repeated.

    \b
    JSONL lines: {"text": "...", "from": "ana@example.com", "subject": "...",
                  "sent_at": "2026-11-24T10:00:00-05:00", "order": "1043", "channel": "form"}
    """
    settings = with_policy(settings, policy_file)
    kit = build_routing_kit(settings)
    if not semantic:  # a file is often a backlog: speed first, meaning later (services/rereading.py)
        kit = dataclasses.replace(kit, semantic=None, meaning_later=kit.semantic is not None)
    desk = open_desk(settings)
    now = datetime.now(UTC)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    show_progress = sys.stderr.isatty()
    reader = MessageReader.of(now, [kit.policy.support_email], settings.max_message_bytes)
    batch: list[Prepared] = []
    try:
        for number, prepared in enumerate(
            prepared_messages(path, kit, reader, settings=settings, workers=workers), 1
        ):
            batch.append(prepared)
            if len(batch) >= _FEW or sum(map(_size, batch)) >= _FEW_BYTES:
                _store(desk.uow, kit, batch, now, counts, failures)
                batch = []
            if show_progress and number % 100 == 0:
                click.echo(f"\r{number} messages read", err=True, nl=False)
        _store(desk.uow, kit, batch, now, counts, failures)
        with desk.uow() as cases:
            counts["meaning_due"] = cases.meaning_due_count()
    finally:
        desk.close()
    if show_progress:
        click.echo("\r", err=True, nl=False)
    _summary(path, counts, failures, as_json=as_json)


def _store(
    uow: UnitOfWork,
    kit: RoutingKit,
    batch: Sequence[Prepared],
    now: datetime,
    counts: Counter[str],
    failures: list[str],
) -> None:
    """A few messages in one short transaction, each in a savepoint of its own: one that
    raises is quarantined with the reason and never rolls its neighbours back."""
    problems = [p.item.result for p in batch if isinstance(p.item.result, ParseProblem)]
    if problems:
        with uow() as cases:
            for problem in problems:
                cases.quarantine(problem.source, problem.reason, now)
    incomings = [
        Incoming(p.item.result[0], p.item.source, p.item.result[1], p.card)
        for p in batch
        if not isinstance(p.item.result, ParseProblem)
    ]
    # busy past every retry (adapters/db/engine.py) is no fault of a message: it stops the run
    results = iter(take_in_few(uow, kit, incomings, now=now, transient=Desk.is_locked) if incomings else [])
    for prepared in batch:  # counted in reading order
        result = prepared.item.result
        outcome = Quarantined(result.reason) if isinstance(result, ParseProblem) else next(results)
        if isinstance(outcome, Quarantined):
            counts["failed"] += 1
            failures.append(f"{prepared.item.source}: {outcome.reason}")
        else:
            counts[outcome.outcome.value] += 1


def _size(prepared: Prepared) -> int:
    """Roughly the bytes a parsed message holds: what a batch waiting to be stored costs."""
    if isinstance(prepared.item.result, ParseProblem):
        return 0
    message, attachments = prepared.item.result
    return len(message.full_body) + len(message.html) + sum(len(content) for _, content in attachments)


def _summary(path: Path, counts: Counter[str], failures: list[str], *, as_json: bool) -> None:
    summary = {
        "path": str(path),
        "new_cases": counts["new_case"],
        "updated_cases": counts["updated_case"],
        "duplicates": counts["duplicate"],
        "screened": counts["screened"],
        "failed": counts["failed"],
        "failures": failures,
        "meaning_due": counts["meaning_due"],
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"{path}: {summary['new_cases']} new cases, {summary['updated_cases']} updated, "
        f"{summary['duplicates']} duplicates skipped, {summary['screened']} screened "
        f"(auto-replies, lists, delivery reports), {summary['failed']} quarantined"
    )
    if waiting := counts["meaning_due"]:
        cases, them = (
            ("1 case routed by its words alone waits", "it")
            if waiting == 1
            else (f"{waiting} cases routed by their words alone wait", "them")
        )
        click.echo(
            f"  {cases} for the semantic reader: `aftersales reread` reads {them} now, "
            "`aftersales worker` in the background (--semantic: read as they come in)"
        )
    for failure in failures[:_SHOWN_FAILURES]:
        click.echo(f"  quarantined {failure}")
    if len(failures) > _SHOWN_FAILURES:
        click.echo(
            f"  ... and {len(failures) - _SHOWN_FAILURES} more (`aftersales cases` does not list them)"
        )
