"""Beside the conversation, in Chromium: a customer's photo shown as a thumbnail (served by
its id), an evidence tick that saves at once and survives a reload, and the order sidebar with
a very long SKU and address that still fits a 390 px phone."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from .conftest import LiveDesk, desk_env, run_cli

CUSTOMER = "zed.quill@example.com"
LONG_SKU = "TMB-20-BLK-LIMITED-EDITION-" + "X" * 60
LONG_STREET = "Via " + "Lunghissima" * 8 + " 1"
PHONE = 390


def photo_mail(path: Path) -> Path:
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (180, 40, 40)).save(picture, format="PNG")
    mail = EmailMessage()
    mail["From"] = f"Zed Quill <{CUSTOMER}>"
    mail["To"] = "support@northwind.example"
    mail["Subject"] = "Dented tumbler, order #7001"
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain="example.com")
    mail.set_content("My tumbler from order #7001 arrived dented. A photo of the damage is attached.")
    mail.add_attachment(picture.getvalue(), maintype="image", subtype="png", filename="dent.png")
    path.write_bytes(mail.as_bytes())
    return path


def orders_csv(path: Path) -> Path:
    header = "Name,Email,Currency,Lineitem name,Lineitem sku,Lineitem quantity,Lineitem price,Shipping Name,Shipping Address1,Shipping City,Shipping Zip,Shipping Country"
    row = f"#7001,{CUSTOMER},USD,Tumbler 20oz,{LONG_SKU},1,34.00,Zed Quill,{LONG_STREET},Bologna,40121,IT"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    return path


def fits(page: Page, selector: str) -> bool:
    """The element ends inside the viewport and has nothing to scroll sideways."""
    return bool(
        page.evaluate(
            """([selector, width]) => {
                const e = document.querySelector(selector);
                const box = e.getBoundingClientRect();
                return box.right <= width && e.scrollWidth <= e.clientWidth;
            }""",
            [selector, PHONE],
        )
    )


@pytest.mark.browser
def test_a_photo_shows_a_tick_saves_and_the_order_fits_a_phone(
    lead_page: Page, desk: LiveDesk, tmp_path: Path
) -> None:
    # given Zed's order with a long SKU and street, and his mail with a photo
    env = desk_env(desk.data_dir)
    run_cli(env, "import", "orders", str(orders_csv(tmp_path / "orders.csv")))
    run_cli(env, "intake", str(photo_mail(tmp_path / "photo.eml")), "--workers", "0")
    page = lead_page
    page.goto(f"/cases?{urlencode({'q': CUSTOMER})}")
    page.locator("table.queue tbody tr td a").first.click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))

    # then the photo is a thumbnail the browser loaded, and the photo evidence is present
    thumb = page.locator("#messages img.thumb")
    expect(thumb).to_have_count(1)
    page.wait_for_function("document.querySelector('#messages img.thumb').complete")
    assert thumb.evaluate("img => img.naturalWidth") == 40
    expect(page.locator("#evidence-damage_photo")).to_have_class("present")
    expect(page.locator("#evidence-damage_photo .evidence-source")).to_have_text("image attached: dent.png")
    expect(page.locator("#order-lines")).to_contain_text(LONG_SKU)

    # when the agent ticks the outer-box photo: saved at once (no Save button with JavaScript)
    box = page.locator("#evidence-outer_box_photo input[name=present]")
    expect(page.locator("#evidence-outer_box_photo .evidence-save")).to_be_hidden()
    box.check()
    expect(page.locator("#evidence-outer_box_photo .evidence-saved")).to_have_text("saved: ticked")
    page.reload()
    expect(box).to_be_checked()
    expect(page.locator("#evidence-outer_box_photo")).to_have_class("present")
    # and unticks it again
    box.uncheck()
    expect(page.locator("#evidence-outer_box_photo .evidence-saved")).to_have_text("saved: unticked")
    page.reload()
    expect(box).not_to_be_checked()

    # on a phone, the sidebar, the checklist and the files wrap instead of scrolling sideways
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.reload()
    for selector in ("#order", "#evidence", "#messages .files"):
        assert fits(page, selector), selector
