"""`aftersales user add|list` and `aftersales token add` from the command line.

Each test gets its own data folder (embedded SQLite). The commands hash with the production
Argon2id parameters (about 0.1 s a hash), so the tests that add a user are few. Errors that
`aftersales.cli.main()` turns into "error: ..." and exit code 2 escape CliRunner as the
exception itself, so those tests check ``result.exception``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aftersales.adapters.db.users import users_unit_of_work
from aftersales.cli import cli
from aftersales.domain.accounts import Role, User
from aftersales.domain.errors import InputError
from aftersales.services.accounts import user_for_token
from aftersales.settings import load_settings
from aftersales.wiring import open_desk

Env = dict[str, str | None]
PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return {"AFTERSALES_DATA_DIR": str(tmp_path), "AFTERSALES_POLICY": None, "AFTERSALES_DATABASE_URL": None}


def invoke(env: Env, *args: str, given: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=given)


def ok(env: Env, *args: str, given: str | None = None) -> Result:
    result = invoke(env, *args, given=given)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def holder_of(token: str, data_dir: Path) -> User | None:
    """Who the token names, asked of the data folder's database the way the web desk asks."""
    engine = open_desk(load_settings({"AFTERSALES_DATA_DIR": str(data_dir)})).engine
    with users_unit_of_work(engine)() as repo:
        return user_for_token(repo, token, datetime.now(UTC))


def add_ana(env: Env) -> None:
    ok(
        env,
        "user",
        "add",
        "Ana@Example.com",
        "--role",
        "founder",
        "--name",
        "Ana Ruiz",
        "--password-stdin",
        given=PASSWORD + "\n",
    )


def test_a_user_added_from_stdin_is_listed(env: Env) -> None:
    add_ana(env)

    assert json.loads(ok(env, "user", "list", "--json").stdout) == [
        {"id": 1, "email": "ana@example.com", "name": "Ana Ruiz", "role": "founder", "active": True}
    ]
    assert ok(env, "user", "list").stdout.splitlines() == [
        f"{'id':>4}  {'e-mail':<32} {'role':<13} {'active':<7} name",
        f"{1:>4}  {'ana@example.com':<32} {'founder':<13} {'yes':<7} Ana Ruiz",
    ]


def test_without_password_stdin_the_password_is_asked_twice_and_not_echoed(env: Env) -> None:
    result = ok(
        env, "user", "add", "sam@example.com", "--role", "frontline", given=f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert result.stdout.splitlines()[-1] == "user 1: sam@example.com (frontline)"
    assert "Password (at least 10 characters): " in result.stdout
    assert "Repeat for confirmation: " in result.stdout
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    ("args", "given", "problem"),
    [
        pytest.param(
            ["ana.example.com", "--role", "admin"], None, "is not an e-mail address", id="bad_email"
        ),
        pytest.param(
            ["ana@example.com", "--role", "admin", "--password-stdin"],
            "too short\n",
            "a password needs at least 10 characters",
            id="short_password",
        ),
    ],
)
def test_a_user_that_cannot_be_added_is_refused(
    env: Env, args: list[str], given: str | None, problem: str
) -> None:
    result = invoke(env, "user", "add", *args, given=given)

    assert isinstance(result.exception, InputError)
    assert problem in str(result.exception)
    assert (
        "Password" not in result.output
    )  # without --password-stdin, a bad address is refused before the prompt
    assert ok(env, "user", "list").stdout.startswith("no users yet")


def test_a_role_outside_the_six_is_a_usage_error(env: Env) -> None:
    result = invoke(env, "user", "add", "ana@example.com", "--role", "owner")

    assert result.exit_code == 2
    assert "'owner' is not one of 'frontline', 'operations', 'founder'" in result.output


def test_a_token_is_printed_once_alone_on_stdout_and_names_its_user(env: Env, tmp_path: Path) -> None:
    add_ana(env)

    result = ok(env, "token", "add", "ana@example.com", "--name", "shopify-sync")

    [token] = result.stdout.splitlines()
    assert result.stderr == (
        "token 'shopify-sync' for ana@example.com; it will not be shown again, so copy it now:\n"
    )
    assert holder_of(token, tmp_path) == User(1, "ana@example.com", "Ana Ruiz", Role.FOUNDER)


def test_a_token_for_an_unknown_email_is_refused(env: Env) -> None:
    result = invoke(env, "token", "add", "bo@example.com")

    assert isinstance(result.exception, InputError)
    assert str(result.exception) == "no user with the e-mail bo@example.com"


def test_a_revoked_token_no_longer_names_its_user(env: Env, tmp_path: Path) -> None:
    add_ana(env)
    [token] = ok(env, "token", "add", "ana@example.com").stdout.splitlines()

    result = ok(env, "token", "revoke", "ana@example.com")

    assert result.stdout == "revoked every API token of ana@example.com\n"
    assert holder_of(token, tmp_path) is None


def test_disable_enable_set_role_and_set_password_control_an_account(env: Env, tmp_path: Path) -> None:
    add_ana(env)
    token = ok(env, "token", "add", "ana@example.com", "--name", "sync").stdout.strip()

    ok(env, "user", "set-role", "ana@example.com", "operations")
    assert holder_of(token, tmp_path).role is Role.OPERATIONS  # type: ignore[union-attr]

    ok(env, "user", "disable", "ana@example.com")
    assert holder_of(token, tmp_path) is None
    listed = json.loads(ok(env, "user", "list", "--json").stdout)
    assert listed[0]["active"] is False

    ok(env, "user", "enable", "ana@example.com")
    assert json.loads(ok(env, "user", "list", "--json").stdout)[0]["active"] is True
    assert holder_of(token, tmp_path) is None  # tokens revoked at disable stay revoked

    done = ok(
        env, "user", "set-password", "ana@example.com", "--password-stdin", given="a new long password\n"
    )
    assert "signed out everywhere" in done.stdout


def test_set_password_refuses_a_short_one_and_an_unknown_user(env: Env) -> None:
    add_ana(env)

    short = invoke(env, "user", "set-password", "ana@example.com", "--password-stdin", given="short\n")
    unknown = invoke(env, "user", "disable", "nobody@example.com")

    assert isinstance(short.exception, InputError)
    assert isinstance(unknown.exception, InputError)
    assert "no user with the e-mail nobody@example.com" in str(unknown.exception)
