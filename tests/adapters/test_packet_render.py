"""The packet's renderings: hostile and long text stays inert in HTML, fits the PDF, and is
kept whole in the JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from aftersales.adapters.reports.packet import STYLE_CSP, packet_html, packet_json, packet_pdf
from aftersales.domain.orders import Address, Dispute, OrderFacts
from aftersales.domain.packet import Packet, PacketData, PacketMessage, build_packet

NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> 🙂 你好 — “quoted” → ünïcödé'


def _packet(body: str) -> Packet:
    message = PacketMessage(
        case_id=1,
        direction="inbound",
        channel="email",
        author=HOSTILE[:40],
        from_address="ana@example.com",
        subject=HOSTILE,
        sent_at=NOW - timedelta(days=1),
        body=body,
    )
    data = PacketData(
        subject="order #1043",
        order=OrderFacts(
            number="1043",
            placed_at=NOW - timedelta(days=9),
            shipping_address=Address(name="Ana Silva", address1=HOSTILE, city="Zürich", country="CH"),
        ),
        customer_email="ana@example.com",
        customer_name=HOSTILE[:30],
        disputes=(Dispute(dispute_id="77", kind="chargeback", reason="product_not_received"),),
        messages=(message,),
    )
    return build_packet(data, NOW)


def test_html_escapes_everything_and_allows_only_its_own_style() -> None:
    page = packet_html(_packet(HOSTILE), store="Northwind <Tumblers>")
    assert "<script" not in page
    assert "<img" not in page
    assert "Northwind &lt;Tumblers&gt;" in page
    assert "address1: &lt;script&gt;" in page  # the shippingAddress field, escaped
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in STYLE_CSP


def test_a_long_message_with_any_characters_fits_the_pdf_and_stays_whole_in_json() -> None:
    body = "\n".join(f"line {n}: {HOSTILE}" for n in range(150))
    packet = _packet(body)
    pdf = packet_pdf(packet)
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    kept = json.loads(packet_json(packet))
    assert kept["conversation"][0]["body"] == body
    assert kept["order"]["shipping_address"]["address1"] == HOSTILE
    assert kept["shopify_evidence"]["shippingAddress"]["address1"] == HOSTILE
