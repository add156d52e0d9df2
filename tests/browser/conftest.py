"""The web desk in a real browser: `aftersales serve` as a separate process over a fresh data
folder with the demo store's week, driven by Playwright in the system Chromium.

Playwright's own browser download (`playwright install`) is never used: the tests run the
OS package `chromium`, which `scripts/test-browser.sh` installs (`./dev test` and `.ci/run`
call it). ``start_desk`` and ``launch_chromium`` are plain functions so that
`scripts/screenshots.py` builds the same desk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, StorageState, sync_playwright

from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

LEAD_EMAIL = "lead@northwind.example"
LEAD_NAME = "Marcus Lee"
LEAD_PASSWORD = "trace-the-parcel-2026"
# A customer whose HTML mail tries to run script on the case page (tests/browser/test_web_desk.py).
XSS_SENDER = "mallory@example.com"
XSS_SUBJECT = "Order #1099 <script>window.__xss=3</script>"
XSS_TEXT = "Where is my order #1099? <script>window.__xss=4</script>"
XSS_HTML = (
    "<p>Where is my order #1099?</p>"
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    "<svg onload=\"alert('xss')\"></svg><a href=\"javascript:alert('xss')\">track</a>"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_CLI = str(Path(sys.executable).with_name("aftersales"))  # the venv's console script
_START_SECONDS = 30


@dataclass(frozen=True, slots=True)
class LiveDesk:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    data_dir: Path
    log: Path  # the server's stdout and stderr


def find_chromium() -> str | None:
    """The system Chromium (the Debian package installs /usr/bin/chromium)."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def launch_chromium(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def new_context(
    browser: Browser, desk: LiveDesk, zone: str, state: StorageState | None = None
) -> BrowserContext:
    """A browser profile on the desk whose clock reads the store's time zone."""
    fresh = browser.new_context(base_url=desk.url, timezone_id=zone, locale="en-US", storage_state=state)
    fresh.set_default_timeout(10_000)
    return fresh


def desk_env(data_dir: Path) -> dict[str, str]:
    """This environment without any AFTERSALES_ setting (no database URL, no policy file),
    pointed at ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return env | {"AFTERSALES_DATA_DIR": str(data_dir)}


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """`aftersales ARGS`, failing with its output if it fails."""
    command = [_CLI, *args]
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`aftersales {' '.join(args)}` exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def start_desk(data_dir: Path, intake: Sequence[Path] = ()) -> Iterator[LiveDesk]:
    """The demo week in ``data_dir``, the lead's account, the ``intake`` files taken in, and
    `aftersales serve` on a free port (no background tick) until the block ends."""
    env = desk_env(data_dir)
    run_cli(env, "demo")
    lead = ["user", "add", LEAD_EMAIL, "--role", "operations", "--name", LEAD_NAME, "--password-stdin"]
    run_cli(env, *lead, stdin=LEAD_PASSWORD + "\n")
    for path in intake:
        run_cli(env, "intake", str(path), "--workers", "0")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "serve.log"
    command = [_CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--tick-seconds", "0"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(server, url, log)
        yield LiveDesk(url=url, data_dir=data_dir, log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`aftersales serve` exited {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"`aftersales serve` did not answer /healthz within {_START_SECONDS} s:\n{log.read_text()}"
    )


def xss_mail(path: Path) -> Path:
    """An .eml whose subject, text and HTML parts carry script."""
    mail = EmailMessage()
    mail["From"] = f"Mallory <{XSS_SENDER}>"
    mail["To"] = "support@northwind.example"
    mail["Subject"] = XSS_SUBJECT
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain="example.com")
    mail.set_content(XSS_TEXT)
    mail.add_alternative(XSS_HTML, subtype="html")
    path.write_bytes(mail.as_bytes())
    return path


def sign_in(page: Page, password: str = LEAD_PASSWORD) -> None:
    """Through the sign-in form (the page must show it)."""
    page.fill("#email", LEAD_EMAIL)
    page.fill("#password", password)
    page.click("#sign-in")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def chromium() -> str:
    executable = find_chromium()
    if executable is None:
        message = "the system Chromium is missing: scripts/test-browser.sh installs it (./dev test and .ci/run call it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return executable


@pytest.fixture(scope="session")
def desk(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDesk]:
    data_dir = tmp_path_factory.mktemp("browser-desk")
    mail = xss_mail(tmp_path_factory.mktemp("browser-mail") / "script.eml")
    with start_desk(data_dir, intake=[mail]) as live:
        yield live


@pytest.fixture(scope="session")
def calendar(desk: LiveDesk) -> BusinessCalendar:
    """The store's business calendar, as the server reads it from the same data folder."""
    return build_routing_kit(Settings(data_dir=desk.data_dir, policy_file=None)).calendar


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright, chromium)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, desk: LiveDesk, calendar: BusinessCalendar) -> Iterator[BrowserContext]:
    """A fresh, signed-out browser profile."""
    fresh = new_context(browser, desk, calendar.tz.key)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def lead_session(browser: Browser, desk: LiveDesk, calendar: BusinessCalendar) -> StorageState:
    """The lead's signed-in cookies, made once (hashing the password is slow on purpose)."""
    profile = new_context(browser, desk, calendar.tz.key)
    page = profile.new_page()
    page.goto("/login")
    sign_in(page)
    page.wait_for_url("**/cases")
    state = profile.storage_state()
    profile.close()
    return state


@pytest.fixture
def lead_page(
    browser: Browser, desk: LiveDesk, calendar: BusinessCalendar, lead_session: StorageState
) -> Iterator[Page]:
    """A page signed in as the operations lead, in its own browser profile, on the queue."""
    profile = new_context(browser, desk, calendar.tz.key, lead_session)
    page = profile.new_page()
    page.goto("/cases")
    yield page
    profile.close()
