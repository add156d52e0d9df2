"""`aftersales reply --resolve`, `aftersales clear-rating-flag` and `aftersales user notify`.

Each test gets its own data folder (embedded SQLite) with one case taken in (Ana, #1043) and
the desk's public address set, so a resolving reply carries the rating link.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from aftersales.adapters.db import schema
from aftersales.cli import cli
from aftersales.domain.errors import InputError
from aftersales.domain.satisfaction import Rating
from aftersales.services.satisfaction import rate
from aftersales.settings import load_settings
from aftersales.wiring import mail_links, open_desk

Env = dict[str, str | None]
DESK = "https://desk.northwind.example"
SENT = "2026-11-24T10:00:00-05:00"
ANA = {
    "id": "ana-1@cust.example",
    "from": "ana@example.com",
    "sent_at": SENT,
    "text": "Where is my order #1043?",
}
DONE = "Your parcel was delivered this morning; thank you for your patience."


@pytest.fixture
def env(tmp_path: Path) -> Env:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(json.dumps(ANA) + "\n", encoding="utf-8")
    env: Env = {
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
        "AFTERSALES_PUBLIC_URL": DESK,
    }
    ok(env, "intake", str(inbox))
    return env


def invoke(env: Env, *args: str, given: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=given)


def ok(env: Env, *args: str, given: str | None = None) -> str:
    result = invoke(env, *args, given=given)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_a_resolving_reply_carries_the_link_and_a_bad_ratings_flag_is_cleared_once(env: Env) -> None:
    out = ok(env, "reply", "1", "--text", DONE, "--resolve", "--at", "2026-11-24T11:00:00-05:00")
    settings = load_settings({k: v for k, v in env.items() if v is not None})
    desk = open_desk(settings)
    with desk.engine.connect() as connection:
        body = connection.execute(select(schema.outbox.c.body)).scalar_one()
        status = connection.execute(select(schema.cases.c.status)).scalar_one()
    found = re.search(re.escape(DESK) + r"/rate/([^?\s]+)\?rating=bad", body)
    assert found is not None
    token = mail_links(settings).token_from(found.group(1))
    rate(desk.uow, token, Rating.BAD, "never arrived", now=datetime.now(UTC))

    cleared = ok(env, "clear-rating-flag", "1", "--by", "Marcus Lee")
    again = ok(env, "clear-rating-flag", "1")

    assert (out, status) == ("case 1: reply recorded; the case is resolved\n", "resolved")
    assert (cleared, again) == ("case 1: bad-rating flag cleared\n", "case 1: no bad-rating flag to clear\n")
    desk.close()


def test_a_user_chooses_their_notifications(env: Env) -> None:
    ok(
        env,
        "user",
        "add",
        "marcus@northwind.example",
        "--role",
        "operations",
        "--password-stdin",
        given="correct horse battery\n",
    )

    ok(
        env,
        "user",
        "notify",
        "marcus@northwind.example",
        "--chargeback-risk",
        "immediate",
        "--breach",
        "digest",
    )
    ok(env, "user", "notify", "Marcus@northwind.example", "--breach", "off", "--bad-rating", "immediate")
    shown = json.loads(ok(env, "user", "notify", "marcus@northwind.example", "--json"))
    printed = ok(env, "user", "notify", "marcus@northwind.example")
    unknown = invoke(env, "user", "notify", "nobody@northwind.example", "--breach", "digest")
    wrong = invoke(env, "user", "notify", "marcus@northwind.example", "--breach", "sometimes")

    assert shown == {
        "email": "marcus@northwind.example",
        "notifications": {"chargeback_risk": "immediate", "breach": "off", "bad_rating": "immediate"},
    }
    assert printed.splitlines()[0] == "marcus@northwind.example:"
    assert isinstance(unknown.exception, InputError)
    assert "nobody@northwind.example" in str(unknown.exception)
    assert wrong.exit_code == 2
    assert "'sometimes' is not one of" in wrong.output
