"""`aftersales webhooks add|list|test|log|replay|remove`, and the background job that relays
and sends, against a receiver on 127.0.0.1 (embedded SQLite in a data folder of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aftersales.cli import cli
from aftersales.domain.errors import InputError
from aftersales.domain.jobs import JobName
from aftersales.domain.outbound_webhooks import SIGNATURE_HEADER, signature_problem
from aftersales.jobs.desk_jobs import DeskJobs, KitHolder
from aftersales.services.routing import RoutingKit
from aftersales.settings import load_settings
from aftersales.wiring import open_desk
from support.feed import open_told_case
from support.webhook_receiver import Receiver, receiving

Env = dict[str, str | None]
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return {"AFTERSALES_DATA_DIR": str(tmp_path), "AFTERSALES_POLICY": None, "AFTERSALES_DATABASE_URL": None}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def invoke(env: Env, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def ok(env: Env, *args: str) -> Result:
    result = invoke(env, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _jobs(env: Env, kit: RoutingKit) -> DeskJobs:
    settings = load_settings({k: v for k, v in env.items() if v is not None})
    return DeskJobs(settings, open_desk(settings), KitHolder(kit))


def _open_case(jobs: DeskJobs) -> int:
    return open_told_case(jobs.desk.uow, "ana@example.com", at=AT)


def test_an_admin_registers_a_receiver_the_job_sends_and_a_delivery_is_replayed(
    env: Env, receiver: Receiver, kit: RoutingKit
) -> None:
    jobs = _jobs(env, kit)
    assert JobName.OUTBOUND_WEBHOOKS in [job.name for job, _ in jobs.schedule(None)]
    jobs.outbound_webhooks()  # the feed's cursor starts here

    added = json.loads(ok(env, "webhooks", "add", receiver.url, "-e", "case.opened", "--json").stdout)
    secret = added["secret"]
    assert secret.startswith("whsec_")
    assert added["events"] == ["case.opened"]
    listed = ok(env, "webhooks", "list").stdout
    assert receiver.url in listed
    assert secret not in listed

    tested = ok(env, "webhooks", "test", str(added["id"]))
    assert "webhook.test" in tested.stdout
    assert " 200 " in tested.stdout

    case_id = _open_case(jobs)
    assert jobs.outbound_webhooks() == {"relayed": 1, "sent": 1, "retrying": 0, "failed": 0}
    assert jobs.outbound_webhooks() == {"relayed": 0, "sent": 0, "retrying": 0, "failed": 0}
    delivered = receiver.received[-1]
    header = delivered.headers[SIGNATURE_HEADER]
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert signature_problem(secret, header, delivered.body, now=stamp) is None
    assert json.loads(delivered.body)["case"]["id"] == case_id

    log = json.loads(ok(env, "webhooks", "log", "--json").stdout)
    assert [(d["event"], d["status"], [a["status_code"] for a in d["log"]]) for d in log] == [
        ("case.opened", "sent", [200]),
        ("webhook.test", "sent", [200]),
    ]
    receiver.default = 500
    replayed = invoke(env, "webhooks", "replay", str(log[0]["id"]))
    assert replayed.exit_code == 1  # it did not get through this time
    assert "the receiver answered 500" in replayed.stdout
    assert len(receiver.received) == 3
    assert receiver.received[-1].body == delivered.body
    text = ok(env, "webhooks", "log", "--attempts", "--limit", "1").stdout
    assert "pending" in text
    assert "internal error in the receiver" in text

    ok(env, "webhooks", "remove", str(added["id"]))
    assert "no webhook endpoints" in ok(env, "webhooks", "list").stdout
    assert "[removed]" in ok(env, "webhooks", "list", "--all").stdout


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["add", "ftp://example.com/x", "-e", "case.opened"], "only http and https"),
        (["add", "https://user:pw@example.com/", "-e", "case.opened"], "user name or password"),
        (["remove", "7"], "no webhook endpoint 7"),
        (["replay", "7"], "no webhook delivery 7"),
        (["test", "7"], "no webhook endpoint 7"),
    ],
)
def test_bad_input_is_refused_with_what_is_wrong(env: Env, args: list[str], problem: str) -> None:
    result = invoke(env, "webhooks", *args)
    assert isinstance(result.exception, InputError)
    assert problem in str(result.exception)
    assert "no webhook endpoints" in ok(env, "webhooks", "list").stdout


def test_an_unknown_event_is_a_usage_error(env: Env) -> None:
    result = invoke(env, "webhooks", "add", "https://example.com/in", "-e", "case.closed")
    assert result.exit_code == 2
    assert "case.opened" in result.output
