"""The `aftersales` command line: one module per command family."""

from __future__ import annotations

import importlib
import os
import sys

import click

from aftersales import __version__
from aftersales.domain.errors import AftersalesError, headed
from aftersales.settings import load_settings

# Each command's module, imported only when that command runs (or --help lists them all):
# importing every family (the database layer, PDF rendering, the web desk, the IMAP and
# Shopify clients) cost `aftersales route` two thirds of a second before it read a word.
COMMANDS: dict[str, str] = {
    "route": "aftersales.cli.route:route",
    "policy": "aftersales.cli.policy:policy",
    "train": "aftersales.cli.train:train",
    "model": "aftersales.cli.train:model",
    "eval": "aftersales.cli.eval:eval_group",
    "demo": "aftersales.cli.demo:demo",
    "db": "aftersales.cli.db:db",
    "intake": "aftersales.cli.intake:intake",
    "mail": "aftersales.cli.mail:mail",
    "import": "aftersales.cli.imports:import_group",
    "cases": "aftersales.cli.cases:cases",
    "case": "aftersales.cli.cases:case",
    "reply": "aftersales.cli.work:reply",
    "note": "aftersales.cli.work:note",
    "status": "aftersales.cli.work:status",
    "assign": "aftersales.cli.work:assign",
    "escalate": "aftersales.cli.work:escalate_command",
    "evidence": "aftersales.cli.work:evidence",
    "decide": "aftersales.cli.work:decide",
    "reroute": "aftersales.cli.work:reroute_command",
    "reread": "aftersales.cli.reread:reread_command",
    "clear-rating-flag": "aftersales.cli.work:clear_rating_flag",
    "sla": "aftersales.cli.sla:sla",
    "serve": "aftersales.cli.serve:serve",
    "worker": "aftersales.cli.worker:worker",
    "jobs": "aftersales.cli.worker:jobs",
    "user": "aftersales.cli.users:user",
    "token": "aftersales.cli.users:token",
    "shopify": "aftersales.cli.shopify:shopify",
    "holds": "aftersales.cli.automation:holds",
    "review-requests": "aftersales.cli.automation:review_requests",
    "export": "aftersales.cli.automation:export",
    "check": "aftersales.cli.check:check",
    "packet": "aftersales.cli.packet:packet",
    "audit-feed": "aftersales.cli.audit:audit_feed_command",
    "review": "aftersales.cli.weekly_review:review",
    "tasks": "aftersales.cli.weekly_review:tasks",
    "webhooks": "aftersales.cli.webhooks:webhooks",
    "report": "aftersales.cli.report:report",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name when used (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="aftersales")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """aftersales: route every customer message into a decision card.

    \b
    Start here:
      aftersales demo                      fill a desk with the demo store's week (--lab: the Routing Lab)
      aftersales route "Where is my order #1043? Tracking hasn't moved in 5 days"
      aftersales route --json - < message.txt
      aftersales route --batch messages.jsonl --json > cards.jsonl
      aftersales policy init policy.toml   write a commented store policy to edit
      aftersales policy check policy.toml  validate it
      aftersales train labelled.csv        adapt the router to your own messages
      aftersales eval routing set.jsonl    measure it: macro-F1, accuracy, confusion (--reader llm)

    \b
    The case desk:
      aftersales intake inbox.mbox         take in messages: cases are opened, routed, clocked
      aftersales reread                    the cases intake routed by words alone, read by meaning
      aftersales cases                     the queue, riskiest first
      aftersales case 42                   one case: clocks, evidence, decision, timeline
      aftersales serve                     the web desk on http://127.0.0.1:8000
      aftersales worker / jobs             background jobs (PostgreSQL: several workers), their log
      aftersales webhooks add URL -e case.opened   tell outside tools of new cases, breaches, ratings

    \b
    Integrations and the write-back loop:
      aftersales import orders|products|reviews FILE   Shopify and review exports
      aftersales import history past.jsonl your old help desk's conversations (Zendesk, Gorgias, ...)
      aftersales user notify you@store.example --breach immediate   mail me when a case breaches
      aftersales shopify sync 1043         an order from the Admin API (webhooks: serve)
      aftersales mail poll / mail send     the support inbox over IMAP, replies over SMTP
      aftersales review                    the weekly review: repeats become write-back tasks
      aftersales report --weeks 12         trends: volume, response and resolution hours, SLA, per agent
      aftersales audit-feed --products P --feed F   the Merchant Center feed vs the shop
      aftersales packet 1043               a dispute's evidence packet
      aftersales check                     launch readiness

    Settings: AFTERSALES_DATA_DIR (the store's data folder, default
    ~/.local/share/aftersales), AFTERSALES_POLICY (a policy file; default
    DATA_DIR/policy.toml, else the built-in demo policy) and AFTERSALES_DATABASE_URL
    (default: the SQLite file DATA_DIR/aftersales.db; postgresql://... at scale); the
    Shopify, IMAP and SMTP settings are in docs/configuration.md.
    """
    ctx.obj = load_settings(os.environ)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except AftersalesError as error:
        click.echo(f"error: {headed(error)}", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
