"""Save the web desk's screenshots for the docs: the queue, a case page and its composer at
1440 px and at a phone's 390 px (docs/img/queue-1440.png, queue-390.png, case-1440.png,
case-390.png, composer-1440.png, composer-390.png), and the weekly review (review.png).

    .venv/bin/python scripts/screenshots.py

The same set-up as the browser tests (tests/browser/conftest.py): a fresh data folder with
the demo store's week, the operations lead's account, `aftersales serve` on a free port,
and the system Chromium (scripts/test-browser.sh installs it).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "img"
CASE_ORDER = "1043"  # the demo week's stalled parcel: clocks, a reply, evidence and a card


def _browser_setup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("browser_setup", ROOT / "tests" / "browser" / "conftest.py")
    if spec is None or spec.loader is None:
        raise ImportError("tests/browser/conftest.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


WIDTHS = (1440, 390)
REPLY = "We have asked UPS for a trace of the parcel. I'll update you by tomorrow 3 pm."


def _signed_in(browser: Browser, url: str, setup: ModuleType, width: int) -> Page:
    context = browser.new_context(base_url=url, viewport={"width": width, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto("/login")
    setup.sign_in(page)
    page.wait_for_url("**/cases")
    return page


def _shoot(browser: Browser, url: str, setup: ModuleType, width: int) -> list[str]:
    """The queue, the stalled parcel's case page and its composer with a reply typed."""
    page = _signed_in(browser, url, setup, width)
    page.screenshot(path=IMAGES / f"queue-{width}.png")
    page.goto(f"/cases?{urlencode({'q': CASE_ORDER})}")
    page.locator("table.queue tbody tr td a").first.click()
    page.wait_for_url("**/cases/*")
    page.screenshot(path=IMAGES / f"case-{width}.png")
    page.fill("#reply-text", REPLY)
    page.locator("#reply-checks li").first.wait_for()  # the live reply checks have run
    page.locator("#composer").screenshot(path=IMAGES / f"composer-{width}.png")
    page.context.close()
    return [f"queue-{width}.png", f"case-{width}.png", f"composer-{width}.png"]


def _review(browser: Browser, url: str, setup: ModuleType) -> str:
    page = _signed_in(browser, url, setup, 1280)
    page.goto("/review")
    page.screenshot(path=IMAGES / "review.png", full_page=True)
    page.context.close()
    return "review.png"


def main() -> int:
    setup = _browser_setup()
    chromium = setup.find_chromium()
    if chromium is None:
        sys.stderr.write("the system Chromium is missing: run `bash scripts/test-browser.sh` first\n")
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="aftersales-screenshots-") as folder,
        setup.start_desk(Path(folder)) as desk,
        sync_playwright() as playwright,
    ):
        browser = setup.launch_chromium(playwright, chromium)
        names = [name for width in WIDTHS for name in _shoot(browser, desk.url, setup, width)]
        names.append(_review(browser, desk.url, setup))
        browser.close()
    for name in names:
        sys.stdout.write(f"{(IMAGES / name).relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
