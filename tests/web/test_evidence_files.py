"""An evidence upload is stored like an attachment: written whole, private, and a copy torn by
an older desk's crash is written again (hardening finding 7)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role

from .test_web_desk import Headers, new_case


def test_an_evidence_upload_is_written_whole_and_private(
    client: TestClient, signed_in: Callable[[Role], str], token: Headers, tmp_path: Path
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    csrf = signed_in(Role.OPERATIONS)
    receipt = b"%PDF-1.4 carrier receipt " * 2_000
    digest = hashlib.sha256(receipt).hexdigest()
    stored = tmp_path / "attachments" / digest[:2] / digest
    stored.parent.mkdir(parents=True)
    stored.write_bytes(receipt[:100])  # what a crash mid-write left behind

    response = client.post(
        f"/cases/{case_id}/evidence",
        data={"key": "order_number", "present": "true", "csrf_token": csrf},
        files={"file": ("receipt.pdf", receipt, "application/pdf")},
    )

    assert response.status_code == 303, response.text
    assert stored.read_bytes() == receipt
    assert stored.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in stored.parent.iterdir()] == [digest]  # no temporary file left
