"""`aftersales mail send` (the command alone: the `mail` group registers it) on an embedded
SQLite data folder, against the aiosmtpd test server."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.cli.mail_send import NOT_CONFIGURED, send_command
from aftersales.domain.errors import ConfigError
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import open_desk

from .conftest import Inbox, free_port
from .test_outbox import PROMISE, WHERE_IS_1043, at, message


@pytest.fixture
def settings(tmp_path: Path, kit: RoutingKit, smtp: Inbox) -> Settings:
    """A data folder with one reply queued for ana@example.com."""
    configured = Settings(data_dir=tmp_path, policy_file=None, smtp=smtp.server())
    uow = open_desk(configured).uow
    case_id = take_in(uow, kit, Incoming(message(WHERE_IS_1043), "test"), now=at(24, 10)).case_id
    assert case_id is not None
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    return configured


def test_send_delivers_the_queue_and_says_so(settings: Settings, smtp: Inbox) -> None:
    first = CliRunner().invoke(send_command, [], obj=settings)
    again = CliRunner().invoke(send_command, ["--json"], obj=settings)

    assert (first.exit_code, first.output) == (0, "sent 1, retrying 0, gave up 0\n")
    assert (again.exit_code, json.loads(again.output)) == (
        0,
        {"sent": 0, "retrying": 0, "gave_up": 0, "errors": []},
    )
    assert [recipients for _, recipients, _ in smtp.received] == [["ana@example.com"]]


def test_a_server_that_is_down_exits_1_with_the_error(settings: Settings) -> None:
    assert settings.smtp is not None
    down = replace(settings, smtp=replace(settings.smtp, port=free_port()))

    result = CliRunner().invoke(send_command, ["--json", "--max-attempts", "1"], obj=down)

    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["sent"], data["retrying"], data["gave_up"]) == (0, 0, 1)
    assert "cannot send through 127.0.0.1:" in data["errors"][0]["error"]


def test_without_smtp_settings_it_says_what_to_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(send_command, [], obj=Settings(data_dir=tmp_path, policy_file=None))

    assert isinstance(result.exception, ConfigError)
    assert str(result.exception) == NOT_CONFIGURED
