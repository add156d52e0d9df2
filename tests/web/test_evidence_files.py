"""Evidence on the case page and the case's files, in-process on SQLite and PostgreSQL.

Given a case, when an agent ticks or unticks an evidence item (the form without JavaScript,
the JSON call that ``static/evidence.js`` makes), then a reload shows what was saved. An
upload is kept whole and private, listed on its item and served by its own id. A customer's
image makes a photo item present; "photos attached" with no image only suggests it. Files are
served to signed-in users only, by id: an image (by its bytes) inline, anything else as a
download; an unknown id or anything with "../" is a 404.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from aftersales.domain.accounts import Role
from aftersales.domain.messages import AttachmentMeta, Channel, InboundMessage
from aftersales.services.intake import Incoming, take_in

from .test_web_desk import Headers, new_case

DAMAGED = "The tumbler from order #1051 arrived dented. I've attached photos of the damage."


def picture(kind: str) -> bytes:
    """A real 2×2 image in ``kind`` (PNG, JPEG, GIF, WEBP)."""
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def open_case_with_files(app: FastAPI, files: list[tuple[str, str, bytes]], text: str = DAMAGED) -> int:
    """A customer's mail carrying ``files`` (name, declared type, bytes), taken in as intake does."""
    metas = [
        (AttachmentMeta(name, kind, len(data), hashlib.sha256(data).hexdigest()), data)
        for name, kind, data in files
    ]
    sent = datetime.now(UTC)
    message = InboundMessage(
        message_id=f"{hashlib.sha256(text.encode()).hexdigest()[:10]}-{len(files)}@cust.example",
        dedupe_key=f"k-{sent.timestamp()}-{len(files)}",
        channel=Channel.EMAIL,
        from_address="ana@example.com",
        from_name="Ana",
        to_addresses=(),
        subject="Dented",
        sent_at=sent,
        body=text,
        full_body=text,
        html="",
        attachments=tuple(meta for meta, _ in metas),
    )
    web = app.state.web
    result = take_in(web.desk.uow, web.kit, Incoming(message, "test", attachments=metas), now=sent)
    assert result.case_id is not None
    return result.case_id


def file_ids(page: str) -> list[int]:
    return [int(n) for n in dict.fromkeys(re.findall(r'href="/attachments/(\d+)"', page))]


def item_of(page: str, key: str) -> str:
    found = re.search(rf'<li class="(\w+)" id="evidence-{key}"[^>]*>(.*?)</li>', page, re.S)
    assert found, f"no evidence item {key}"
    return found.group(1) + " " + found.group(2)


def is_ticked(page: str, key: str) -> bool:
    return 'name="present" value="true" checked' in item_of(page, key)


# ---------------------------------------------------------------- ticking


STEPS = [
    pytest.param([True], True, id="tick"),
    pytest.param([True, False], False, id="tick then untick"),
    pytest.param([False], False, id="untick what was never ticked"),
    pytest.param([True, False, True], True, id="tick, untick, tick"),
]


@pytest.mark.parametrize("via", ["form", "json"])
@pytest.mark.parametrize(("steps", "ticked"), STEPS)
def test_a_tick_is_saved_and_a_reload_shows_it(
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Headers,
    via: str,
    steps: list[bool],
    ticked: bool,
) -> None:
    # given a case whose outer-box photo only a person can tick
    case_id = new_case(client, token(Role.OPERATIONS), {"text": DAMAGED, "from": "ana@example.com"})
    csrf = signed_in(Role.OPERATIONS)
    assert not is_ticked(client.get(f"/cases/{case_id}").text, "outer_box_photo")

    # when the agent ticks and unticks: the form (no JavaScript) or evidence.js's JSON call
    for present in steps:
        if via == "form":
            form = {"key": "outer_box_photo", "csrf_token": csrf} | ({"present": "true"} if present else {})
            response = client.post(f"/cases/{case_id}/evidence", data=form)
            assert (response.status_code, response.headers["location"]) == (303, f"/cases/{case_id}#evidence")
        else:
            body = {"key": "outer_box_photo", "present": present}
            response = client.post(
                f"/api/cases/{case_id}/evidence", json=body, headers={"X-CSRF-Token": csrf}
            )
            assert response.status_code == 200, response.text
            assert response.json()["item"]["present"] is present

    # then the reloaded page shows the last one
    page = client.get(f"/cases/{case_id}").text
    assert is_ticked(page, "outer_box_photo") is ticked
    assert item_of(page, "outer_box_photo").startswith("present" if ticked else "missing")
    assert ("marked by Operations" in item_of(page, "outer_box_photo")) is ticked


def test_the_json_tick_needs_the_csrf_header(
    client: TestClient, signed_in: Callable[[Role], str], token: Headers
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    signed_in(Role.OPERATIONS)

    response = client.post(f"/api/cases/{case_id}/evidence", json={"key": "order_number", "present": True})

    assert response.status_code == 403
    assert not is_ticked(client.get(f"/cases/{case_id}").text, "order_number")


# ---------------------------------------------------------------- from facts, not words


@pytest.mark.parametrize(
    ("files", "state", "says"),
    [
        pytest.param([], "suggested", "Suggested: the customer mentions photos", id="words only: suggested"),
        pytest.param(
            [("dent.jpg", "image/jpeg", picture("JPEG"))],
            "present",
            "image attached: dent.jpg",
            id="an image came",
        ),
        pytest.param(
            [("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt")],
            "suggested",
            "Suggested: the customer mentions photos",
            id="a PDF is not a photo",
        ),
    ],
)
def test_a_photo_is_present_when_an_image_came_not_when_words_say_so(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    files: list[Any],
    state: str,
    says: str,
) -> None:
    case_id = open_case_with_files(app, files)
    signed_in(Role.OPERATIONS)

    page = client.get(f"/cases/{case_id}").text

    assert item_of(page, "damage_photo").startswith(state)
    assert says in item_of(page, "damage_photo")


# ---------------------------------------------------------------- uploads


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


def test_an_upload_ticks_its_item_and_is_listed_and_served(
    client: TestClient, signed_in: Callable[[Role], str], token: Headers
) -> None:
    # given a case, and an agent with the carrier's receipt
    bearer = token(Role.OPERATIONS)
    case_id = new_case(client, bearer)
    csrf = signed_in(Role.OPERATIONS)
    receipt = b"%PDF-1.4 carrier receipt"

    # when it is uploaded for "carrier check" without ticking the box
    response = client.post(
        f"/cases/{case_id}/evidence",
        data={"key": "carrier_check", "note": "claim 881", "csrf_token": csrf},
        files={"file": ("UPS claim.pdf", receipt, "application/pdf")},
    )

    # then the item is present from the file, which is listed and served by its id
    assert response.status_code == 303, response.text
    page = client.get(f"/cases/{case_id}").text
    item = item_of(page, "carrier_check")
    assert item.startswith("present")
    assert "file added: UPS claim.pdf" in item
    (file_id,) = file_ids(item)
    served = client.get(f"/attachments/{file_id}")
    assert (served.status_code, served.content) == (200, receipt)
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == "attachment; filename*=UTF-8''UPS%20claim.pdf"
    case = client.get(f"/api/cases/{case_id}", headers=bearer).json()
    assert [(f["id"], f["evidence_key"], f["url"]) for f in case["files"]] == [
        (file_id, "carrier_check", f"/attachments/{file_id}")
    ]
    assert {e["key"]: e["state"] for e in case["evidence"]}["carrier_check"] == "present"


def test_an_upload_for_an_unknown_item_keeps_nothing(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str], token: Headers, tmp_path: Path
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    csrf = signed_in(Role.OPERATIONS)

    response = client.post(
        f"/cases/{case_id}/evidence",
        data={"key": "no_such_item", "csrf_token": csrf},
        files={"file": ("x.pdf", b"%PDF-1.4 x", "application/pdf")},
    )

    assert response.status_code == 404
    assert file_ids(client.get(f"/cases/{case_id}").text) == []
    assert not (tmp_path / "attachments").exists() or not any((tmp_path / "attachments").rglob("*"))


# ---------------------------------------------------------------- serving files

SERVED = [
    pytest.param("a.png", "image/png", picture("PNG"), "image/png", "inline", id="png inline"),
    pytest.param("b.jpg", "image/jpeg", picture("JPEG"), "image/jpeg", "inline", id="jpeg inline"),
    pytest.param("c.gif", "image/gif", picture("GIF"), "image/gif", "inline", id="gif inline"),
    pytest.param("d.webp", "image/webp", picture("WEBP"), "image/webp", "inline", id="webp inline"),
    pytest.param("e.png", "application/octet-stream", picture("PNG"), "image/png", "inline", id="sniffed, not declared"),
    pytest.param("f.png", "image/png", b"<html><script>alert(1)</script>", "application/octet-stream", "attachment",
                 id="html that says it is a png is a download"),
    pytest.param("g.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                 "application/octet-stream", "attachment", id="svg is a download"),
    pytest.param("h.pdf", "application/pdf", b"%PDF-1.4", "application/octet-stream", "attachment", id="pdf download"),
    pytest.param("reçu d'Ana.txt", "text/plain", b"hello", "application/octet-stream", "attachment", id="utf-8 name"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "declared", "data", "served_as", "disposition"), SERVED)
def test_a_file_is_served_by_its_bytes_not_its_declared_type(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    name: str,
    declared: str,
    data: bytes,
    served_as: str,
    disposition: str,
) -> None:
    case_id = open_case_with_files(app, [(name, declared, data)])
    signed_in(Role.FRONTLINE)
    (file_id,) = file_ids(client.get(f"/cases/{case_id}").text)

    response = client.get(f"/attachments/{file_id}")

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == served_as
    assert response.headers["content-disposition"].startswith(f"{disposition}; filename*=UTF-8''")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert response.headers["cache-control"] == "private, no-store"


def test_a_utf8_file_name_is_offered_encoded(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    case_id = open_case_with_files(app, [("../reçu d'Ana.txt", "text/plain", b"hello")])
    signed_in(Role.FRONTLINE)
    (file_id,) = file_ids(client.get(f"/cases/{case_id}").text)

    response = client.get(f"/attachments/{file_id}")

    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''re%C3%A7u%20d%27Ana.txt"


def test_the_case_page_shows_images_as_thumbnails_and_other_files_as_links(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    case_id = open_case_with_files(
        app, [("dent.jpg", "image/jpeg", picture("JPEG")), ("label.pdf", "application/pdf", b"%PDF-1.4")]
    )
    signed_in(Role.FRONTLINE)

    page = client.get(f"/cases/{case_id}").text

    image, pdf = file_ids(page)
    assert f'<img class="thumb" src="/attachments/{image}"' in page
    assert f'src="/attachments/{pdf}"' not in page
    assert "📎 label.pdf" in page


# sent as written: an HTTP client would resolve "../" before sending, an attacker's does not
REFUSED = [
    pytest.param("/attachments/999999", id="unknown id"),
    pytest.param("/attachments/..", id="dot dot"),
    pytest.param("/attachments/../cases", id="dot dot slash"),
    pytest.param("/attachments/../../etc/passwd", id="dot dot slash, twice"),
    pytest.param("/attachments/..%2F..%2Fetc%2Fpasswd", id="encoded dot dot slash"),
    pytest.param("/attachments/1/../1", id="an id, then a path"),
    pytest.param("/attachments/%2e%2e", id="encoded dots"),
    pytest.param("/attachments/-1", id="a negative id"),
    pytest.param("/attachments/99999999999", id="beyond the id range"),
    pytest.param("/attachments/dent.jpg", id="a name"),
    pytest.param("/api/attachments/999999", id="api: unknown id"),
    pytest.param("/api/attachments/..", id="api: dot dot"),
    pytest.param("/api/attachments/../cases/1", id="api: dot dot slash"),
    pytest.param("/api/attachments/..%2F..%2Fetc%2Fpasswd", id="api: encoded dot dot slash"),
]


@pytest.mark.parametrize("path", REFUSED)
def test_anything_but_a_known_id_is_not_found(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str], path: str
) -> None:
    case_id = open_case_with_files(app, [("dent.jpg", "image/jpeg", picture("JPEG"))])
    signed_in(Role.ADMIN)
    assert len(file_ids(client.get(f"/cases/{case_id}").text)) == 1

    status, body = raw_get(app, path, client)

    assert status == 404, body[:300]
    assert b"\xff\xd8" not in body  # never the image's bytes


def raw_get(app: FastAPI, path: str, client: TestClient) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (percent-escapes and "../" left alone), with the
    client's session cookie."""
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def request() -> None:
        await app(scope, receive, send)

    anyio.run(request)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_signed_out_a_file_is_never_served(app: FastAPI, client: TestClient, token: Headers) -> None:
    case_id = open_case_with_files(app, [("dent.jpg", "image/jpeg", picture("JPEG"))])
    bearer = token(Role.FRONTLINE)
    (file_id,) = [f["id"] for f in client.get(f"/api/cases/{case_id}", headers=bearer).json()["files"]]

    page = client.get(f"/attachments/{file_id}")
    api = client.get(f"/api/attachments/{file_id}")
    with_token = client.get(f"/api/attachments/{file_id}", headers=bearer)

    assert (page.status_code, page.headers["location"]) == (303, f"/login?next=/attachments/{file_id}")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "unauthorized"
    assert (with_token.status_code, with_token.headers["content-type"]) == (200, "image/jpeg")


def test_a_file_whose_content_was_not_kept_is_not_found(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str], tmp_path: Path
) -> None:
    data = picture("PNG")
    case_id = open_case_with_files(app, [("a.png", "image/png", data)])
    signed_in(Role.FRONTLINE)
    (file_id,) = file_ids(client.get(f"/cases/{case_id}").text)
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "attachments" / digest[:2] / digest).write_bytes(data[:10])  # torn

    response = client.get(f"/attachments/{file_id}")

    assert response.status_code == 404
    assert "was not kept" in response.text
