"""`aftersales user` and `aftersales token`: who may use the desk, and their API tokens."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import click

from aftersales.domain.accounts import MIN_PASSWORD_LENGTH, Role, User, normalised_email
from aftersales.domain.notifications import Timing, Topic
from aftersales.ports import UserRepository
from aftersales.services.accounts import (
    add_user,
    disable_user,
    enable_user,
    issue_token,
    set_password,
    set_role,
    user_with_email,
)
from aftersales.services.notifications import choices_of, choose
from aftersales.settings import Settings
from aftersales.wiring import open_desk, password_hasher


@click.group()
def user() -> None:
    """Desk users: who may sign in to the web desk, and with which role.

    \b
    Roles: frontline, operations, founder, supply_chain, marketing, admin. What each may
    decide, refund, resolve, close and pause, per route, is the table in docs/web.md; only an
    admin manages users.
    """


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What they may do.")
@click.option("--name", default="", metavar="NAME", help="Their name, as the timeline shows it.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.pass_obj
def add_command(settings: Settings, *, email: str, role: str, name: str, password_stdin: bool) -> None:
    """Add a user who signs in with EMAIL and a password of at least 10 characters.

    \b
    Examples:
      aftersales user add dana@northwind.example --role founder --name "Dana Whitfield"
      printf '%s\\n' "$PASSWORD" | aftersales user add sam@northwind.example --role frontline --password-stdin
    """
    normalised_email(email)  # a typo is refused before the password is asked for
    password = _read_password() if password_stdin else _prompt_password()
    with _accounts(settings) as users:
        added = add_user(
            users,
            password_hasher(),
            email=email,
            name=name,
            role=Role(role),
            password=password,
            at=datetime.now(UTC),
        )
    click.echo(f"user {added.id}: {added.email} ({added.role})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of user objects.")
@click.pass_obj
def list_command(settings: Settings, *, as_json: bool) -> None:
    """Every user, by e-mail, with their role and whether they are active.

    \b
    Examples:
      aftersales user list
      aftersales user list --json
    """
    with _accounts(settings) as users:
        found = users.list_users()
    if as_json:
        click.echo(json.dumps([_as_dict(u) for u in found], indent=2))
        return
    if not found:
        click.echo("no users yet: add one with `aftersales user add EMAIL --role admin`")
        return
    click.echo(f"{'id':>4}  {'e-mail':<32} {'role':<13} {'active':<7} name")
    for u in found:
        click.echo(
            f"{u.id:>4}  {u.email:<32} {u.role:<13} {'yes' if u.active else 'no':<7} {u.name}".rstrip()
        )


@user.command("disable")
@click.argument("email")
@click.pass_obj
def disable_command(settings: Settings, email: str) -> None:
    """Stop the user with EMAIL signing in: their sessions end at once (every browser is
    signed out) and their API tokens are revoked. `user enable` lets them sign in again.

    \b
    Example (someone who left):
      aftersales user disable sam@northwind.example
    """
    with _accounts(settings) as users:
        done = disable_user(users, email, datetime.now(UTC))
    click.echo(f"disabled {done.email}: signed out everywhere, API tokens revoked")


@user.command("enable")
@click.argument("email")
@click.pass_obj
def enable_command(settings: Settings, email: str) -> None:
    """Let a disabled user with EMAIL sign in again (their old API tokens stay revoked).

    \b
    Example:
      aftersales user enable sam@northwind.example
    """
    with _accounts(settings) as users:
        done = enable_user(users, email)
    click.echo(f"enabled {done.email}")


@user.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.pass_obj
def set_role_command(settings: Settings, email: str, role: str) -> None:
    """Give the user with EMAIL another ROLE, from their next request on; their browser
    sessions end, so they sign in again. The last active admin cannot be demoted.

    \b
    Example:
      aftersales user set-role sam@northwind.example operations
    """
    with _accounts(settings) as users:
        done = set_role(users, email, Role(role))
    click.echo(f"{done.email} is now {role}; signed out everywhere")


@user.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.pass_obj
def set_password_command(settings: Settings, *, email: str, password_stdin: bool) -> None:
    """Set a new password for the user with EMAIL (asked for, never an argument); every
    session of theirs ends.

    \b
    Examples:
      aftersales user set-password sam@northwind.example
      printf '%s\\n' "$PASSWORD" | aftersales user set-password sam@northwind.example --password-stdin
    """
    with _accounts(settings) as users:
        user_with_email(users, email)  # an unknown address is refused before the password is asked for
    password = _read_password() if password_stdin else _prompt_password()
    with _accounts(settings) as users:
        done = set_password(users, password_hasher(), email, password)
    click.echo(f"new password set for {done.email}; signed out everywhere")


@click.group()
def token() -> None:
    """API tokens: a script or integration acts as a user with a bearer token."""


@token.command("add")
@click.argument("email")
@click.option(
    "--name",
    default="api",
    show_default=True,
    metavar="NAME",
    help="What the token is for, e.g. 'shopify-sync'.",
)
@click.pass_obj
def add_token_command(settings: Settings, email: str, name: str) -> None:
    """Issue an API token for the user with EMAIL. The token is printed once, alone on
    standard output, so a script can capture it; only its hash is stored.

    \b
    Examples:
      aftersales token add dana@northwind.example --name shopify-sync
      TOKEN=$(aftersales token add ops@northwind.example --name nightly-report)
    """
    with _accounts(settings) as users:
        holder = user_with_email(users, email)
        issued = issue_token(users, holder.id, name, datetime.now(UTC))
    click.echo(f"token '{name}' for {holder.email}; it will not be shown again, so copy it now:", err=True)
    click.echo(issued)


@token.command("revoke")
@click.argument("email")
@click.pass_obj
def revoke_token_command(settings: Settings, email: str) -> None:
    """Revoke every API token of the user with EMAIL: calls with them get 401 from now on.

    
    Example (a leaked token, or someone who left):
      aftersales token revoke sam@northwind.example
    """
    with _accounts(settings) as users:
        holder = user_with_email(users, email)
        users.revoke_tokens(holder.id, datetime.now(UTC))
    click.echo(f"revoked every API token of {holder.email}")


_TIMING = click.Choice([*(t.value for t in Timing), "off"])


@user.command("notify")
@click.argument("email")
@click.option("--chargeback-risk", "chargeback_risk", type=_TIMING, help="A new chargeback-risk case.")
@click.option("--breach", type=_TIMING, help="A breach on a case they lead or are assigned.")
@click.option(
    "--bad-rating", "bad_rating", type=_TIMING, help="A bad rating on such a case (admins: on any case)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the choices as a JSON object.")
@click.pass_obj
def notify_command(  # noqa: PLR0913  (click passes each option)
    settings: Settings,
    *,
    email: str,
    chargeback_risk: str | None,
    breach: str | None,
    bad_rating: str | None,
    as_json: bool,
) -> None:
    """Which notifications a user gets by e-mail: each topic "immediate" (within minutes),
    "digest" (in the next morning's daily digest) or "off". Topics not given keep their
    choice; with none given, the choices are printed. The user sets the same on their
    account page (/account).

    \b
    Examples:
      aftersales user notify priya@northwind.example --chargeback-risk immediate --breach digest
      aftersales user notify priya@northwind.example --bad-rating off
      aftersales user notify priya@northwind.example --json
    """
    desk = open_desk(settings)
    with desk.read_users() as users:
        found = user_with_email(users, email)
    chosen = choices_of(desk.read, found.id)
    given = {Topic.CHARGEBACK_RISK: chargeback_risk, Topic.BREACH: breach, Topic.BAD_RATING: bad_rating}
    if any(value is not None for value in given.values()):
        for topic, value in given.items():
            if value == "off":
                chosen.pop(topic, None)
            elif value is not None:
                chosen[topic] = Timing(value)
        choose(desk.uow, found.id, chosen)
    shown = {topic.value: chosen[topic].value if topic in chosen else "off" for topic in Topic}
    if as_json:
        click.echo(json.dumps({"email": found.email, "notifications": shown}, indent=2))
        return
    click.echo(f"{found.email}:")
    for name, value in shown.items():
        click.echo(f"  {name:<16} {value}")


def _accounts(settings: Settings) -> AbstractContextManager[UserRepository]:
    """One transaction on the desk's users and tokens."""
    return open_desk(settings).users()


def _prompt_password() -> str:
    prompt = f"Password (at least {MIN_PASSWORD_LENGTH} characters)"
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _as_dict(u: User) -> dict[str, object]:
    return {"id": u.id, "email": u.email, "name": u.name, "role": u.role.value, "active": u.active}
