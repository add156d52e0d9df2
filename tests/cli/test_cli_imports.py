"""`aftersales route` and `aftersales sla due` import only what routing needs: each command
family is imported when its command runs, and wiring imports a store or an outside-system
client only when one is built, so a quick answer pays for no database, web desk, PDF or
mail client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aftersales.cli import COMMANDS, cli

_PROBE = """
import contextlib, io, json, sys
sys.argv = ["aftersales", *json.loads(sys.argv[1])]
from aftersales.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as stop:
        assert not stop.code, stop.code
print(json.dumps(sorted(sys.modules)))
"""
_NOT_FOR_A_QUICK_ANSWER = (
    # the database layer and its drivers
    "sqlalchemy",
    "psycopg",
    "alembic",
    "aftersales.adapters.db",
    # the web desk
    "aftersales.web",
    "fastapi",
    "starlette",
    "jinja2",
    "uvicorn",
    # PDF and packet rendering
    "fpdf",
    "aftersales.adapters.reports.packet",
    # mail, the shop, the language model, passwords
    "imap_tools",
    "aftersales.adapters.mail.imap",
    "aftersales.adapters.mail.smtp",
    "httpx2",
    "aftersales.adapters.shopify.admin",
    "aftersales.adapters.reader.llm",
    "argon2",
)
_QUICK_COMMANDS = {
    "route": ["route", "Where is my order #1043? It has not moved in 6 days."],
    "sla due": ["sla", "due", "2026-11-27T16:00:00-05:00", "4"],
}


@pytest.mark.parametrize("command", sorted(_QUICK_COMMANDS))
def test_a_quick_command_imports_no_database_web_pdf_or_mail_module(command: str, tmp_path: Path) -> None:
    env = os.environ | {"AFTERSALES_DATA_DIR": str(tmp_path)}
    env.pop("AFTERSALES_LLM_BASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(_QUICK_COMMANDS[command])],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in loaded if _is_under(m, _NOT_FOR_A_QUICK_ANSWER)] == []


def _is_under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_loads_under_its_name(name: str) -> None:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    assert command.name == name
