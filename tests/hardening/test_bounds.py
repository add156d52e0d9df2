"""Bounded resources: request bodies, intake memory, huge mails and conversations, mbox edges.

Findings 3, 4, 14 and part of 15 of the hardening issue. The slow tests start real processes
(`aftersales serve`, `aftersales intake`) and measure their memory from /proc.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.mail.parse import parse_email
from aftersales.adapters.passwords import Argon2Hasher
from aftersales.cli.intake import intake
from aftersales.domain.accounts import Role
from aftersales.domain.messages import ParseProblem
from aftersales.services.accounts import add_user
from aftersales.settings import Settings, ShopifySettings
from aftersales.web.app import create_app
from support.packet_story import plant_dispute

_CLI = str(Path(sys.executable).with_name("aftersales"))  # the venv's console script
MB = 1024 * 1024


@pytest.fixture
def app(uow: SqlUnitOfWork, engine: Engine, tmp_path: Path) -> Iterator[FastAPI]:
    url = engine.url.render_as_string(hide_password=False)
    shopify = ShopifySettings(webhook_secret="whsec")
    settings = Settings(data_dir=tmp_path, policy_file=None, database_url=url, shopify=shopify)
    app = create_app(settings, hasher=Argon2Hasher(time_cost=1, memory_cost=8), tick_seconds=None)
    yield app
    app.state.web.desk.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


# ---------------------------------------------------------------- finding 3: request bodies

_POST_ROUTES = [
    "/api/messages",
    "/api/cases/1/notes",
    "/api/cases/1/reply",
    "/api/route",
    "/api/policy/check",
    "/webhooks/shopify",
    "/login",
    "/contact",
    "/cases/1/evidence",
    "/policy",
]


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield block


@pytest.mark.parametrize("path", _POST_ROUTES)
def test_finding_03_oversize_bodies_are_refused_before_sign_in(client: TestClient, path: str) -> None:
    """Anonymous, with Content-Length and chunked: 413 in the API's error shape, never 401 or 422."""
    size = 30 * MB if path.endswith("/evidence") else 3 * MB
    json_route = path.startswith(("/api/", "/webhooks/"))
    kind = {"content-type": "application/json" if json_route else "application/x-www-form-urlencoded"}
    declared = client.post(path, content=b"x" * size, headers=kind)
    streamed = client.post(path, content=_chunks(size), headers=kind)
    for response in (declared, streamed):
        assert response.status_code == 413, (path, response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "too_large"
        assert "limit" in response.json()["error"]["message"]


def test_finding_03_a_declared_oversize_body_is_refused_on_any_path(client: TestClient) -> None:
    for path in ("/no/such/route", "/cases", "/healthz"):
        response = client.post(path, content=b"x" * 3 * MB)
        assert response.status_code == 413, path


def test_finding_03_bodies_under_the_cap_still_work(client: TestClient) -> None:
    response = client.post("/api/messages", json={"text": "x" * 150_000})
    assert response.status_code == 401  # read, parsed, then refused for want of a token


def test_finding_03_a_page_gets_a_page(client: TestClient) -> None:
    form = {"accept": "text/html", "content-type": "application/x-www-form-urlencoded"}
    response = client.post("/login", content=_chunks(3 * MB), headers=form)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for process {pid}")


@contextlib.contextmanager
def served(data_dir: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`aftersales serve` on a free loopback port, over its own data folder."""
    port = _free_port()
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir)}
    env.pop("AFTERSALES_DATABASE_URL", None)
    log = (data_dir / "serve.log").open("wb")
    command = [_CLI, "serve", "--port", str(port), "--tick-seconds", "0"]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((data_dir / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _send_huge(port: int, path: str, total: int, *, chunked: bool) -> int:
    """POST ``total`` bytes without credentials, streamed; the status the server answers."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=60)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    answer: list[bytes] = []

    def read_answer() -> None:
        with contextlib.suppress(OSError):
            answer.append(connection.recv(65_536))

    reader = threading.Thread(target=read_answer)
    reader.start()
    with contextlib.suppress(OSError):  # the server closes the connection once it has answered
        connection.sendall(head.encode())
        block = b"{" * MB
        for _ in range(total // MB):
            if answer:
                break
            connection.sendall(b"%x\r\n%b\r\n" % (len(block), block) if chunked else block)
    reader.join(timeout=60)
    connection.close()
    assert answer, f"no answer to {path}"
    return int(answer[0].split(b" ", 2)[1])


@pytest.mark.slow
def test_finding_03_a_300_mb_body_costs_the_server_under_50_mb(tmp_path: Path) -> None:
    with served(tmp_path) as (port, server):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10).read()
        before = peak_rss_kb(server.pid)
        statuses = [
            _send_huge(port, path, 300 * MB, chunked=chunked)
            for path in ("/api/messages", "/api/cases/1/notes", "/api/route")
            for chunked in (False, True)
        ]
        after = peak_rss_kb(server.pid)
    assert statuses == [413] * 6
    assert after - before < 50 * 1024, f"the server grew from {before} kB to {after} kB"


# ---------------------------------------------------------------- intake: helpers


def _intake(settings: Settings, path: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(intake, [str(path), "--json", *args], obj=settings)
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output)
    return summary


@pytest.fixture
def desk_settings(tmp_path: Path) -> Settings:
    """A data folder with its embedded SQLite file, as `aftersales intake` runs by default: the
    command makes its own engine, which a test could not dispose of on a shared server."""
    return Settings(data_dir=tmp_path / "data", policy_file=None)


def _mail(number: int, text: str = "Where is my order #1043? Tracking has not moved.") -> bytes:
    return (
        f"From: Buyer {number} <buyer{number}@example.com>\n"
        "To: support@northwind.example\n"
        f"Subject: Order question {number}\n"
        "Date: Tue, 24 Nov 2026 10:00:00 -0500\n"
        f"Message-ID: <bounds-{number}@example.com>\n\n"
        f"{text}\n"
    ).encode()


# ---------------------------------------------------------------- finding 15: mbox edges


def test_finding_15_mbox_before_first_from_line(desk_settings: Settings, tmp_path: Path) -> None:
    """A message before the first From line is read (here: taken in); junk there is quarantined."""
    mbox = tmp_path / "inbox.mbox"
    mbox.write_bytes(_mail(1) + b"\nFrom buyer2@example.com Tue Nov 24 10:00:00 2026\n" + _mail(2))
    summary = _intake(desk_settings, mbox, "--workers", "0")
    assert summary["new_cases"] == 2, summary
    junk = tmp_path / "junk.mbox"
    junk.write_bytes(b"not mail at all\n\nFrom buyer3@example.com Tue Nov 24 10:00:00 2026\n" + _mail(3))
    summary = _intake(desk_settings, junk, "--workers", "0")
    assert summary["new_cases"] == 1, summary
    assert summary["failures"] == [
        f"{junk}#0: not an e-mail: no From, To, Subject, Date or Message-ID header"
    ]


def test_finding_15_mbox_after_bom(desk_settings: Settings, tmp_path: Path) -> None:
    separator = b"\nFrom buyer@example.com Tue Nov 24 10:00:00 2026\n"
    for name in ("bom.mbox", "Inbox"):  # named, and found by its first line
        mbox = tmp_path / name
        mbox.write_bytes(
            b"\xef\xbb\xbf" + separator[1:] + _mail(10 + len(name)) + separator + _mail(20 + len(name))
        )
        summary = _intake(desk_settings, mbox, "--workers", "0")
        assert summary["new_cases"] == 2, (name, summary)
        assert summary["failed"] == 0


# ---------------------------------------------------------------- finding 14: one mail, the whole desk


def _many_parts_mail(parts: int) -> bytes:
    head = (
        b"From: Mallory <mallory@example.com>\nTo: support@northwind.example\nSubject: parts\n"
        b"Date: Tue, 24 Nov 2026 10:00:00 -0500\nMessage-ID: <parts@example.com>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="p"\n\n'
    )
    part = b"--p\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n\nx\n"
    return head + part * parts + b"--p--\n"


def test_finding_14_fifty_thousand_mime_parts_are_quarantined_in_seconds(
    desk_settings: Settings, tmp_path: Path
) -> None:
    mail = tmp_path / "parts.eml"
    mail.write_bytes(_many_parts_mail(50_000))
    assert mail.stat().st_size > 3 * MB
    started = time.perf_counter()
    summary = _intake(desk_settings, mail, "--workers", "0")
    assert time.perf_counter() - started < 5
    assert summary["failures"] == [f"{mail}: message has 50,001 MIME parts, over the cap of 500"]


def test_finding_14_a_mail_keeps_its_first_50_attachments_with_a_note() -> None:
    head = (
        _mail(1).split(b"\n\n", 1)[0]
        + b'\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="a"\n\n'
    )
    body = b"--a\nContent-Type: text/plain\n\nPhotos of the damage attached.\n"
    photos = b"".join(
        b'--a\nContent-Type: image/png\nContent-Disposition: attachment; filename="p%d.png"\n\nPNG%d\n'
        % (n, n)
        for n in range(60)
    )
    result = parse_email(head + body + photos + b"--a--\n", source="t", received_at=datetime.now(UTC))
    assert not isinstance(result, ParseProblem)
    message, attachments = result
    assert [meta.filename for meta, _ in attachments] == [f"p{n}.png" for n in range(50)]
    assert message.body.endswith("[aftersales kept the first 50 of 60 attachments; the rest were not stored]")


_PASSWORD = "correct horse battery"


def _signed_in(app: FastAPI, client: TestClient) -> None:
    web = app.state.web
    with web.users() as users:
        add_user(
            users,
            web.hasher,
            email="lead@northwind.example",
            name="Lead",
            role=Role.OPERATIONS,
            password=_PASSWORD,
            at=datetime.now(UTC),
        )
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    form = {"email": "lead@northwind.example", "password": _PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=form).status_code == 303


def _huge_case(app: FastAPI, messages: int) -> int:
    """The planted dispute's case, with ``messages`` more long messages in its conversation."""
    web = app.state.web
    case_id = plant_dispute(web.desk.uow, web.kit)
    with web.desk.engine.begin() as connection:
        row = dict(
            connection.execute(select(t.messages).where(t.messages.c.case_id == case_id)).mappings().first()
            or {}
        )
        row.pop("id")
        body = "My order has still not arrived and I need it before the holidays. " * 40
        rows = [
            row
            | {
                "message_id": f"flood-{n}@example.com",
                "dedupe_key": f"flood-{n}",
                "body": body,
                "full_body": body,
                "sent_at": row["sent_at"] + timedelta(minutes=n),
            }
            for n in range(messages)
        ]
        connection.execute(t.messages.insert(), rows)
    return case_id


def test_finding_14_a_huge_conversation_renders_in_bounded_time(app: FastAPI, client: TestClient) -> None:
    _signed_in(app, client)
    case_id = _huge_case(app, 3_000)
    started = time.perf_counter()
    page = client.get(f"/cases/{case_id}")
    page_seconds = time.perf_counter() - started
    assert page.status_code == 200
    assert page.text.count('<article class="message') == 50
    assert f"/cases/{case_id}?show=250" in page.text
    started = time.perf_counter()
    pdf = client.get(f"/cases/{case_id}/packet", params={"format": "pdf"})
    pdf_seconds = time.perf_counter() - started
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    html = client.get(f"/cases/{case_id}/packet").text
    assert "more messages" in html
    assert "are not printed here" in html
    assert page_seconds < 5, page_seconds
    assert pdf_seconds < 15, pdf_seconds


def test_finding_14_sign_in_answers_while_pdfs_are_made(app: FastAPI, client: TestClient) -> None:
    _signed_in(app, client)
    case_id = _huge_case(app, 3_000)
    statuses: list[int] = []

    def fetch_pdf() -> None:
        statuses.append(client.get(f"/cases/{case_id}/packet", params={"format": "pdf"}).status_code)

    makers = [threading.Thread(target=fetch_pdf) for _ in range(4)]
    for maker in makers:
        maker.start()
    waits = []
    while any(maker.is_alive() for maker in makers):
        started = time.perf_counter()
        assert client.get("/login").status_code == 200
        waits.append(time.perf_counter() - started)
        time.sleep(0.2)
    for maker in makers:
        maker.join()
    assert set(statuses) <= {200, 503}
    assert 200 in statuses
    assert waits
    assert max(waits) < 3, waits


# ---------------------------------------------------------------- finding 4: intake memory


def _photo_mbox(path: Path, mails: int, photo_bytes: int) -> None:
    with path.open("wb") as out:
        for number in range(mails):
            out.write(
                f"From buyer{number}@example.com Tue Nov 24 10:00:00 2026\n".encode()
                + _mail(number, "My tumbler arrived dented, photo attached.").split(b"\n\n", 1)[0]
                + b'\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
                + b"--b\nContent-Type: text/plain\n\nMy tumbler arrived dented, photo attached.\n"
                + b'--b\nContent-Type: image/jpeg\nContent-Disposition: attachment; filename="lid.jpg"\n'
                + b"Content-Transfer-Encoding: base64\n\n"
                + base64.encodebytes(os.urandom(photo_bytes))
                + b"--b--\n\n"
            )


def _tree_rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and all its descendants, summed (kB)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, ValueError):
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) if "VmRSS:" in status else 0
            for children in Path(f"/proc/{current}/task").glob("*/children"):
                todo.extend(int(child) for child in children.read_text().split())
    return total


def _intake_peak_mb(mbox: Path, data_dir: Path, workers: int) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir)}
    env.pop("AFTERSALES_DATABASE_URL", None)
    command = [_CLI, "intake", str(mbox), "--workers", str(workers), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kb(process.pid))
        time.sleep(0.05)
    out, err = process.communicate()
    assert process.returncode == 0, err.decode()[-2000:]
    return peak / 1024, json.loads(out)


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "bound_mb"), [(0, 220), (2, 400)])
def test_finding_04_intake_memory_is_a_few_messages_not_the_mailbox(
    tmp_path: Path, workers: int, bound_mb: int
) -> None:
    """40 mails of 5 MB (200 MB): before, all 40 were held at once (over 300 MB in one process)."""
    mbox = tmp_path / "photos.mbox"
    _photo_mbox(mbox, 40, int(3.7 * MB))
    peak_mb, summary = _intake_peak_mb(mbox, tmp_path / "data", workers)
    assert summary["new_cases"] == 40, summary
    assert peak_mb < bound_mb, f"--workers {workers}: the process tree peaked at {peak_mb:.0f} MB"
    assert not list((tmp_path / "data" / "tmp").glob("*/*")), "files in transit were left behind"


def test_finding_04_a_message_over_the_size_cap_is_quarantined_with_its_size(
    desk_settings: Settings, tmp_path: Path
) -> None:
    mbox = tmp_path / "big.mbox"
    separator = b"From buyer@example.com Tue Nov 24 10:00:00 2026\n"
    big = _mail(1, "x" * (3 * MB))
    mbox.write_bytes(separator + big + b"\n" + separator + _mail(2))
    settings = dataclasses.replace(desk_settings, max_message_bytes=2 * MB)
    summary = _intake(settings, mbox, "--workers", "0")
    assert summary["new_cases"] == 1, summary
    assert summary["failures"] == [f"{mbox}#1: message is 3.0 MB, over the 2.0 MB cap"]


def test_finding_04_a_jsonl_line_over_the_cap_is_quarantined_with_its_size(
    desk_settings: Settings, tmp_path: Path
) -> None:
    lines = tmp_path / "messages.jsonl"
    good = json.dumps({"text": "Where is my order #1043?", "from": "ana@example.com"})
    lines.write_text(json.dumps({"text": "y" * (3 * MB)}) + "\n" + good + "\n")
    settings = dataclasses.replace(desk_settings, max_message_bytes=2 * MB)
    summary = _intake(settings, lines, "--workers", "0")
    assert summary["new_cases"] == 1, summary
    assert summary["failures"] == [f"{lines}:1: line 1: message is 3.0 MB, over the 2.0 MB cap"]
