"""The docs tell the truth about the commands, settings and template placeholders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
import pytest

from aftersales.cli import cli
from aftersales.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text()


def _commands(group: click.Group, prefix: str = "aftersales") -> list[str]:
    names = []
    context = click.Context(group)
    for name in group.list_commands(context):  # the top group loads its commands lazily
        command = group.get_command(context, name)
        assert command is not None, name
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names.extend(_commands(command, f"{prefix} {name}"))
    return names


def _command(path: str) -> click.Command:
    target: click.Command = cli
    for name in path.split()[1:]:
        assert isinstance(target, click.Group)
        found = target.get_command(click.Context(target), name)
        assert found is not None, path
        target = found
    return target


@pytest.mark.parametrize("command", _commands(cli))
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in CLI_DOC


@pytest.mark.parametrize("command", _commands(cli))
def test_every_option_of_a_command_is_documented(command: str) -> None:
    target = _command(command)
    for param in target.params:
        if isinstance(param, click.Option):
            assert any(opt in CLI_DOC for opt in param.opts), f"{command}: {param.opts} not in docs/cli.md"


def test_every_setting_is_documented() -> None:
    variables = set(re.findall(r"AFTERSALES_[A-Z_]+", (ROOT / "src/aftersales/settings.py").read_text()))
    mail = {
        f"AFTERSALES_{kind}_{part}"
        for kind in ("IMAP", "SMTP")
        for part in ("HOST", "PORT", "USER", "PASSWORD", "SECURITY")
    }
    variables = (
        variables - {"AFTERSALES_IMAP_", "AFTERSALES_SMTP_"}
    ) | mail  # read as AFTERSALES_{kind}_HOST …
    assert {
        "AFTERSALES_DATA_DIR",
        "AFTERSALES_SHOPIFY_WEBHOOK_SECRET",
        "AFTERSALES_MAIL_POLL_SECONDS",
    } <= variables
    for variable in variables:
        assert f"`{variable}`" in CONFIG_DOC
    assert load_settings({"AFTERSALES_DATA_DIR": "/x"}).data_dir == Path("/x")


def test_every_reply_placeholder_is_documented() -> None:
    routes = tomllib.loads((ROOT / "src/aftersales/data/routes.toml").read_text())["routes"]
    used = {p for spec in routes.values() for p in re.findall(r"\{(\w+)\}", spec["first_reply"])}
    assert used
    for placeholder in used:
        assert f"`{{{placeholder}}}`" in CONFIG_DOC, placeholder


def test_readme_gives_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "./dev demo" in readme
    assert "./dev test" in readme
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()
