"""The outbound webhooks page: an admin adds an endpoint (its secret shown once), sees the
deliveries with their attempts, replays one and removes the endpoint; nobody else may."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from aftersales.domain.outbound_webhooks import SendStatus
from aftersales.services.outbound_webhooks import queue_test, send_now
from aftersales.wiring import webhook_poster
from support.webhook_receiver import receiving

PAGE = "/outbound-webhooks"


def test_an_admin_adds_sees_replays_and_removes(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    csrf = signed_in(Role.ADMIN)
    assert f'href="{PAGE}"' in client.get("/cases").text  # the admin menu's link
    with receiving() as receiver:
        added = client.post(
            PAGE,
            data={"csrf_token": csrf, "url": receiver.url, "events": ["case.opened", "case.rated"]},
        )
        assert added.status_code == 200
        secret = re.search(r"<code>(whsec_[^<]+)</code>", added.text)
        assert secret is not None
        assert "not shown again" in added.text
        assert added.headers["cache-control"] == "private, no-store"
        page = client.get(PAGE).text
        assert receiver.url in page
        assert "case.opened, case.rated" in page
        assert secret.group(1) not in page  # shown once

        desk = app.state.web.desk
        endpoint_id = int(re.findall(r'id="endpoint-(\d+)"', page)[0])
        receiver.script = [500]
        poster = webhook_poster()
        send = queue_test(desk.webhooks, endpoint_id, now=datetime.now(UTC))
        assert send_now(desk.webhooks, poster, send.id, now=datetime.now(UTC)).status is SendStatus.PENDING
        poster.close()
        page = client.get(PAGE).text
        assert f'id="delivery-{send.id}"' in page
        assert "500" in page
        assert "internal error in the receiver" in page

        replayed = client.post(f"{PAGE}/deliveries/{send.id}/replay", data={"csrf_token": csrf})
        assert replayed.status_code == 303
        assert "queued+again" in replayed.headers["location"]
        with desk.read_webhooks() as store:
            again = store.send(send.id)
        assert again is not None
        assert again.attempts == 0
        assert again.status is SendStatus.PENDING

    removed = client.post(f"{PAGE}/{endpoint_id}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert f'id="endpoint-{endpoint_id}"' not in client.get(PAGE).text


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"url": "ftp://example.com/x", "events": ["case.opened"]}, "only+http+and+https"),
        ({"url": "https://example.com/in"}, "name+at+least+one+event"),
        ({"url": "https://example.com/in", "events": ["case.closed"]}, "unknown+event"),
    ],
)
def test_bad_input_comes_back_with_what_is_wrong_and_writes_nothing(
    client: TestClient, signed_in: Callable[[Role], str], form: dict[str, object], problem: str
) -> None:
    csrf = signed_in(Role.ADMIN)
    answer = client.post(PAGE, data={"csrf_token": csrf, **form})
    assert answer.status_code == 303
    assert problem in answer.headers["location"]
    assert "No endpoints yet" in client.get(PAGE).text


@pytest.mark.parametrize("role", [Role.OPERATIONS, Role.FRONTLINE, Role.FOUNDER])
def test_only_an_admin_sees_or_changes_the_webhooks(
    client: TestClient, signed_in: Callable[[Role], str], role: Role
) -> None:
    csrf = signed_in(role)
    assert client.get(PAGE).status_code == 403
    form = {"csrf_token": csrf, "url": "https://example.com/in", "events": ["case.opened"]}
    assert client.post(PAGE, data=form).status_code == 403
    assert client.post(f"{PAGE}/deliveries/1/replay", data={"csrf_token": csrf}).status_code == 403
    assert f'href="{PAGE}"' not in client.get("/cases").text
