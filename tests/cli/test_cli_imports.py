"""`aftersales route` imports only what routing needs: each command family is imported when
its command runs, so a quick answer does not pay for the web desk, PDFs or mail clients."""

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
sys.argv = ["aftersales", "route", "Where is my order #1043? It has not moved in 6 days."]
from aftersales.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""
_NOT_FOR_ROUTE = (
    "aftersales.web",
    "fastapi",
    "fpdf",
    "imap_tools",
    "httpx2",
    "aftersales.adapters.packet_render",
)


def test_route_imports_no_web_pdf_or_mail_module(tmp_path: Path) -> None:
    env = os.environ | {"AFTERSALES_DATA_DIR": str(tmp_path)}
    env.pop("AFTERSALES_LLM_BASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in loaded if m.startswith(_NOT_FOR_ROUTE)] == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_loads_under_its_name(name: str) -> None:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    assert command.name == name
