"""The dispute evidence packet in the web desk: ``/cases/{id}/packet`` as a page, a PDF and
JSON, for signed-in users only, linked from the case page."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from support.packet_story import plant_dispute


@pytest.fixture
def case_id(app: FastAPI) -> int:
    web = app.state.web
    return plant_dispute(web.desk.uow, web.kit)


def test_the_packet_page_is_standalone_and_runs_nothing(
    client: TestClient, signed_in: Callable[[Role], str], case_id: int
) -> None:
    signed_in(Role.FRONTLINE)
    response = client.get(f"/cases/{case_id}/packet")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to 'none'
    assert "<script" not in response.text.lower()
    assert "Dispute evidence packet: case" in response.text
    assert "shippingDocumentationFile" in response.text
    assert response.headers["cache-control"] == "private, no-store"


def test_the_packet_as_pdf_and_json(
    client: TestClient, signed_in: Callable[[Role], str], case_id: int
) -> None:
    signed_in(Role.FRONTLINE)
    pdf = client.get(f"/cases/{case_id}/packet", params={"format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"dispute-packet-case-{case_id}.pdf" in pdf.headers["content-disposition"]
    data = client.get(f"/cases/{case_id}/packet", params={"format": "json"})
    packet = json.loads(data.text)
    assert packet["reason"] == "product_not_received"
    assert "delivery_proof" in packet["missing"]


def test_the_case_page_links_to_its_packet(
    client: TestClient, signed_in: Callable[[Role], str], case_id: int
) -> None:
    signed_in(Role.FRONTLINE)
    assert f'href="/cases/{case_id}/packet"' in client.get(f"/cases/{case_id}").text


@pytest.mark.parametrize(
    ("path", "status"),
    [("/cases/{id}/packet", 303), ("/cases/{id}/packet?format=pdf", 303)],
)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: TestClient, case_id: int, path: str, status: int
) -> None:
    response = client.get(path.format(id=case_id))
    assert response.status_code == status
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/cases/999999/packet", 404), ("/cases/{id}/packet?format=docx", 422), ("/cases/0/packet", 422)],
)
def test_bad_requests_are_refused(
    client: TestClient, signed_in: Callable[[Role], str], case_id: int, path: str, status: int
) -> None:
    signed_in(Role.FRONTLINE)
    assert client.get(path.format(id=case_id)).status_code == status
