"""`aftersales webhooks`: outbound webhooks (docs/webhooks.md): register receivers, read the
delivery log, replay a delivery, send a test."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from aftersales.domain.outbound_webhooks import SendAttempt, SendStatus, WebhookEvent, WebhookSend
from aftersales.services import outbound_webhooks as hooks
from aftersales.services.jobs import process_name
from aftersales.settings import Settings
from aftersales.wiring import Desk, open_desk, webhook_poster

_EVENTS = [e.value for e in WebhookEvent]


@click.group()
def webhooks() -> None:
    """Outbound webhooks: tell outside tools (Slack, a CRM, a spreadsheet) when a case opens,
    is routed, changes status, breaches a clock or is rated.

    Each delivery is a JSON POST signed with the endpoint's secret (header
    Aftersales-Signature: t=...,v1=HMAC-SHA256 of "t.body"), retried with a backoff for about
    nine hours, then failed until replayed. The background jobs (`aftersales serve` or
    `aftersales worker`) relay and send them; docs/webhooks.md has the payloads and a
    verification snippet.

    \b
    Examples:
      aftersales webhooks add https://hooks.example.com/aftersales --event case.opened --event case.breached
      aftersales webhooks list
      aftersales webhooks test 1
      aftersales webhooks log --failed
      aftersales webhooks replay 42
    """


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--event",
    "-e",
    "events",
    multiple=True,
    required=True,
    type=click.Choice(_EVENTS),
    help="An event to send (repeat for several).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the endpoint and its secret as JSON.")
@click.pass_obj
def add_command(settings: Settings, *, url: str, events: tuple[str, ...], as_json: bool) -> None:
    """Register URL (http or https) to receive EVENTs; prints its signing secret, once.

    Only the desk's operators register URLs (this command, or an admin on the web desk's
    /webhooks page): the desk posts to whatever host is named, internal ones included.

    \b
    Examples:
      aftersales webhooks add https://hooks.example.com/aftersales -e case.opened -e case.status_changed
      aftersales webhooks add https://crm.example.com/in --event case.rated --json
    """
    desk = open_desk(settings)
    endpoint, secret = hooks.add_endpoint(desk.webhooks, url, events, by="command line", at=datetime.now(UTC))
    if as_json:
        click.echo(json.dumps(endpoint.as_dict() | {"secret": secret}, indent=2))
        return
    click.echo(f"endpoint {endpoint.id}: {endpoint.url} ({', '.join(e.value for e in endpoint.events)})")
    click.echo(f"secret: {secret}")
    click.echo(
        "keep the secret now: it is not shown again (the receiver checks signatures with it)", err=True
    )


@webhooks.command("list")
@click.option("--all", "show_all", is_flag=True, help="Removed endpoints too.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of endpoint objects (no secrets).")
@click.pass_obj
def list_command(settings: Settings, *, show_all: bool, as_json: bool) -> None:
    """The registered endpoints and their events (their secrets are never shown again).

    \b
    Examples:
      aftersales webhooks list
      aftersales webhooks list --all --json
    """
    with open_desk(settings).read_webhooks() as store:
        endpoints = store.endpoints(active_only=not show_all)
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in endpoints], indent=2))
        return
    if not endpoints:
        click.echo("no webhook endpoints (add one: aftersales webhooks add URL --event case.opened)")
    for e in endpoints:
        removed = "" if e.active else "  [removed]"
        click.echo(f"{e.id:>4}  {e.url}  {','.join(v.value for v in e.events)}{removed}")


@webhooks.command("remove")
@click.argument("endpoint_id", type=click.IntRange(1))
@click.pass_obj
def remove_command(settings: Settings, *, endpoint_id: int) -> None:
    """Stop sending to endpoint ENDPOINT_ID; its delivery log stays.

    \b
    Example:
      aftersales webhooks remove 3
    """
    hooks.remove_endpoint(open_desk(settings).webhooks, endpoint_id, at=datetime.now(UTC))
    click.echo(f"endpoint {endpoint_id} removed")


@webhooks.command("log")
@click.option("--endpoint", "endpoint_id", type=click.IntRange(1), help="Only this endpoint's deliveries.")
@click.option("--failed", is_flag=True, help="Only the deliveries that failed for good.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--attempts", "with_attempts", is_flag=True, help="Each attempt under its delivery.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of deliveries with their attempts.")
@click.pass_obj
def log_command(
    settings: Settings,
    *,
    endpoint_id: int | None,
    failed: bool,
    limit: int,
    with_attempts: bool,
    as_json: bool,
) -> None:
    """The newest deliveries: event, status, attempts, the last answer; with --attempts each
    attempt's status code, time taken and the answer's first words.

    \b
    Examples:
      aftersales webhooks log
      aftersales webhooks log --failed --attempts
      aftersales webhooks log --endpoint 2 --limit 5 --json
    """
    with open_desk(settings).read_webhooks() as store:
        sends = store.sends(limit, endpoint_id=endpoint_id, failed_only=failed)
        attempts = store.attempts_of([s.id for s in sends])
    if as_json:
        rows = [s.as_dict() | {"log": [a.as_dict() for a in attempts[s.id]]} for s in sends]
        click.echo(json.dumps(rows, indent=2))
        return
    if not sends:
        click.echo("no webhook deliveries" + (" failed" if failed else ""))
    for send in sends:
        click.echo(_send_line(send))
        if with_attempts:
            for attempt in attempts[send.id]:
                click.echo(f"        {_attempt_line(attempt)}")


@webhooks.command("replay")
@click.argument("delivery_id", type=click.IntRange(1))
@click.option("--later", is_flag=True, help="Queue it for the background jobs instead of sending it now.")
@click.pass_obj
def replay_command(settings: Settings, *, delivery_id: int, later: bool) -> None:
    """Send delivery DELIVERY_ID again (the same body and id: the receiver can tell it had
    it), whatever became of it; a new round of attempts if this one fails.

    \b
    Examples:
      aftersales webhooks replay 42
      aftersales webhooks replay 42 --later
    """
    desk = open_desk(settings)
    now = datetime.now(UTC)
    send = hooks.replay(desk.webhooks, delivery_id, now=now)
    if later:
        click.echo(f"delivery {send.id} queued again")
        return
    _post_now(desk, send.id, now)


@webhooks.command("test")
@click.argument("endpoint_id", type=click.IntRange(1))
@click.pass_obj
def test_command(settings: Settings, *, endpoint_id: int) -> None:
    """Send a signed `webhook.test` delivery to endpoint ENDPOINT_ID now and print what it
    answered; exits 1 when it did not answer 2xx (the delivery is retried as any other).

    \b
    Example:
      aftersales webhooks test 1
    """
    desk = open_desk(settings)
    now = datetime.now(UTC)
    send = hooks.queue_test(desk.webhooks, endpoint_id, now=now)
    _post_now(desk, send.id, now)


def _post_now(desk: Desk, send_id: int, now: datetime) -> None:
    poster = webhook_poster()
    try:
        send = hooks.send_now(desk.webhooks, poster, send_id, now=now, by=process_name())
    finally:
        poster.close()
    click.echo(_send_line(send))
    if send.status is not SendStatus.SENT:
        sys.exit(1)


def _send_line(send: WebhookSend) -> str:
    when = send.created_at.strftime("%Y-%m-%d %H:%M:%S")
    code = "---" if send.last_status_code is None else str(send.last_status_code)
    said = f"  {send.last_error}" if send.last_error and send.status is not SendStatus.SENT else ""
    return (
        f"{send.id:>6}  {when}  {send.event:<20} {send.status.value:<8} "
        f"#{send.attempts}  {code}  {send.url}{said}"
    )


def _attempt_line(attempt: SendAttempt) -> str:
    code = "---" if attempt.status_code is None else str(attempt.status_code)
    said = attempt.error if attempt.status_code is None else attempt.excerpt
    return f"{attempt.at.strftime('%Y-%m-%d %H:%M:%S')}  {code}  {attempt.milliseconds} ms  {said}"
