"""The `aftersales` command line: one module per command family."""

from __future__ import annotations

import os
import sys

import click

from aftersales import __version__
from aftersales.adapters.policy_file import PolicyError
from aftersales.cli.audit import audit_feed_command
from aftersales.cli.automation import export, holds, review_requests
from aftersales.cli.cases import case, cases
from aftersales.cli.check import check
from aftersales.cli.db import db
from aftersales.cli.demo import demo
from aftersales.cli.eval import eval_group
from aftersales.cli.imports import import_group
from aftersales.cli.intake import intake
from aftersales.cli.mail import mail
from aftersales.cli.packet import packet
from aftersales.cli.policy import policy
from aftersales.cli.review import review, tasks
from aftersales.cli.route import route
from aftersales.cli.serve import serve
from aftersales.cli.shopify import shopify
from aftersales.cli.sla import sla
from aftersales.cli.train import model, train
from aftersales.cli.users import token, user
from aftersales.cli.work import (
    assign,
    decide,
    escalate_command,
    evidence,
    note,
    reply,
    reroute_command,
    status,
)
from aftersales.domain.errors import AftersalesError
from aftersales.settings import load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
      aftersales cases                     the queue, riskiest first
      aftersales case 42                   one case: clocks, evidence, decision, timeline
      aftersales serve                     the web desk on http://127.0.0.1:8000

    \b
    Integrations and the write-back loop:
      aftersales import orders|products|reviews FILE   Shopify and review exports
      aftersales shopify sync 1043         an order from the Admin API (webhooks: serve)
      aftersales mail poll / mail send     the support inbox over IMAP, replies over SMTP
      aftersales review                    the weekly review: repeats become write-back tasks
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


cli.add_command(route)
cli.add_command(policy)
cli.add_command(train)
cli.add_command(demo)
cli.add_command(db)
cli.add_command(intake)
cli.add_command(mail)
cli.add_command(import_group)
cli.add_command(cases)
cli.add_command(case)
cli.add_command(reply)
cli.add_command(note)
cli.add_command(status)
cli.add_command(sla)
cli.add_command(assign)
cli.add_command(escalate_command)
cli.add_command(evidence)
cli.add_command(decide)
cli.add_command(serve)
cli.add_command(user)
cli.add_command(token)
cli.add_command(shopify)
cli.add_command(holds)
cli.add_command(review_requests)
cli.add_command(export)
cli.add_command(check)
cli.add_command(packet)
cli.add_command(audit_feed_command)
cli.add_command(review)
cli.add_command(tasks)
cli.add_command(reroute_command)
cli.add_command(model)
cli.add_command(eval_group)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except PolicyError as error:
        click.echo(f"error: the policy file cannot be used:\n{error}", err=True)
        sys.exit(2)
    except AftersalesError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
