"""Re-routing and confirming a case's route from the web desk: the API
(`POST /api/cases/{id}/route`, `POST /api/cases/{id}/route/confirm`), the case page's
"change route" and "confirm route", and "check the route" in the queue and on the case.

Given a case opened through the API, when a person re-routes it, then the API's case, the case
page and its card show the new route, lead and stop line (never the old card), the timeline
says so, and the desk keeps the message as a labelled example. Runs on SQLite, and on
PostgreSQL when configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from aftersales.domain.routes import Route
from aftersales.web.app import web_jobs

from .test_web_desk import WHERE_IS, assert_error, new_case, row_counts

Headers = Callable[[Role], dict[str, str]]
VAGUE = {"text": "Hi, can you help me with something?", "from": "cy@example.com"}


def labels(app: FastAPI) -> list[tuple[int | None, str, str]]:
    with app.state.web.desk.read() as cases:
        return [(label.case_id, label.route.value, label.source.value) for label in cases.route_labels()]


def test_a_reroute_through_the_api_replans_the_case_and_the_page_shows_the_new_card(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    kit = app.state.web.kit
    old_stop_line = client.get(f"/api/cases/{case_id}", headers=headers).json()["case"]["decision"][
        "stop_line"
    ]

    response = client.post(
        f"/api/cases/{case_id}/route",
        json={"route": "damaged_item", "reason": "photo of a dent"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    new_stop_line = kit.specs[Route.DAMAGED_ITEM].stop_line
    assert response.json()["route"] == "damaged_item"
    record = client.get(f"/api/cases/{case_id}", headers=headers).json()
    case = record["case"]
    assert (case["route"], case["lead_role"], case["route_check"]) == ("damaged_item", "supply_chain", "")
    assert case["decision"]["stop_line"] != old_stop_line
    assert case["decision"]["stop_line"].startswith(new_stop_line[:40])
    assert {"damage_photo", "outer_box_photo"} <= {e["key"] for e in record["evidence"]}
    rerouted = [e for e in record["timeline"] if e["kind"] == "rerouted"]
    assert [(e["data"]["from"], e["data"]["to"], e["data"]["reason"]) for e in rerouted] == [
        ("shipping_delay", "damaged_item", "photo of a dent")
    ]
    assert labels(app) == [(case_id, "damaged_item", "correction")]

    signed_in(Role.OPERATIONS)
    page = unescape(client.get(f"/cases/{case_id}").text)
    card = page[page.index('id="card"') :]
    assert 'class="route big">damaged item<' in card
    assert '<span class="route big">shipping delay' not in page  # the old route leads nowhere
    assert case["decision"]["stop_line"] in card
    assert old_stop_line not in page
    assert "set on the case (damaged_item); the text reads as shipping_delay" in card


def test_the_api_refuses_an_unknown_route_with_the_allowed_list_and_changes_nothing(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    before = row_counts(app)

    response = client.post(f"/api/cases/{case_id}/route", json={"route": "teleport"}, headers=headers)

    error = assert_error(response, 422, "invalid_input")
    assert "unknown route 'teleport'" in error["message"]
    assert error["details"]["allowed"] == [r.value for r in Route]
    assert row_counts(app) == before


def test_the_api_refuses_an_unknown_case_with_404(app: FastAPI, client: TestClient, token: Headers) -> None:
    headers = token(Role.OPERATIONS)
    before = row_counts(app)

    assert_error(
        client.post("/api/cases/999999/route", json={"route": "review"}, headers=headers), 404, "not_found"
    )
    assert_error(client.post("/api/cases/999999/route/confirm", headers=headers), 404, "not_found")
    assert row_counts(app) == before


ROLE_CASES = [
    pytest.param(Role.FRONTLINE, WHERE_IS, 200, id="frontline may re-route a shipping case"),
    pytest.param(Role.MARKETING, WHERE_IS, 403, id="marketing may not re-route a shipping case"),
    pytest.param(
        Role.FRONTLINE,
        {
            "text": "I never got order #2002. I'm filing a chargeback with my bank today.",
            "from": "bo@example.com",
        },
        403,
        id="frontline may not take a case off chargeback risk",
    ),
]


@pytest.mark.parametrize(("role", "message", "status"), ROLE_CASES)
def test_who_may_reroute_follows_the_role_table(
    app: FastAPI, client: TestClient, token: Headers, role: Role, message: dict[str, str], status: int
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS), message)
    before = row_counts(app)

    response = client.post(f"/api/cases/{case_id}/route", json={"route": "review"}, headers=token(role))

    assert response.status_code == status, response.text
    if status == 403:
        assert_error(response, 403, "forbidden")
        assert row_counts(app) | {"users": 0, "api_tokens": 0} == before | {"users": 0, "api_tokens": 0}


def test_check_the_route_shows_in_the_queue_and_on_the_case_and_confirm_clears_it(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    headers = token(Role.OPERATIONS)
    vague, clear = new_case(client, headers, VAGUE), new_case(client, headers)
    assert client.get(f"/api/cases/{vague}", headers=headers).json()["case"]["route_check"]
    listed = {row["id"]: row["route_check"] for row in client.get("/api/cases", headers=headers).json()}
    assert listed[vague].startswith("the router was unsure")
    assert listed[clear] == ""
    csrf = signed_in(Role.OPERATIONS)

    queue = client.get("/cases").text
    page = client.get(f"/cases/{vague}").text
    assert queue.count("check the route") == 1
    assert 'id="route-check"' in page
    assert 'id="confirm-route"' in page
    assert 'id="change-route"' in page

    confirmed = client.post(f"/cases/{vague}/route/confirm", data={"csrf_token": csrf})

    assert confirmed.status_code == 303
    assert 'id="route-check"' not in client.get(f"/cases/{vague}").text
    assert "check the route" not in client.get("/cases").text
    assert labels(app) == [
        (vague, client.get(f"/api/cases/{vague}", headers=headers).json()["case"]["route"], "confirmation")
    ]


def test_change_route_from_the_case_page(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS), VAGUE)
    csrf = signed_in(Role.OPERATIONS)

    changed = client.post(
        f"/cases/{case_id}/route",
        data={"route": "pre_purchase", "reason": "asks before buying", "csrf_token": csrf},
    )

    assert changed.status_code == 303
    page = unescape(client.get(f"/cases/{case_id}").text)
    assert 'id="case-route">pre purchase<' in page
    assert 'id="route-check"' not in page
    assert labels(app) == [(case_id, "pre_purchase", "correction")]


@pytest.mark.parametrize("sent", ["", "forged-token"], ids=["no token", "wrong token"])
@pytest.mark.parametrize("path", ["/cases/{id}/route", "/cases/{id}/route/confirm"])
def test_the_route_forms_need_the_session_s_csrf_token(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str], path: str, sent: str
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    signed_in(Role.OPERATIONS)
    before = row_counts(app)

    response = client.post(path.replace("{id}", str(case_id)), data={"route": "review", "csrf_token": sent})

    assert response.status_code == 403
    assert row_counts(app) == before


CORRECTED = [
    ("Still waiting on the thing I ordered for my nephew, birthday is saturday", "shipping_delay"),
    ("honestly the best purchase I made this year, five stars", "review"),
    ("can I swap the blue one for the green before you send it", "cancel_or_change"),
    ("does the 20oz fit a standard car cup holder?", "pre_purchase"),
    ("got someone else's parcel, a pair of shoes, not my mug", "wrong_item"),
    ("lid came off and there is a crack down the side", "damaged_item"),
]


def test_the_server_retrains_on_its_timer_after_enough_labels(
    app: FastAPI, client: TestClient, token: Headers, tmp_path: Path
) -> None:
    web = app.state.web
    web.kit = replace(web.kit, policy=replace(web.kit.policy, retrain_every=5))
    headers = token(Role.OPERATIONS)
    for n, (text, route) in enumerate(CORRECTED):
        case_id = new_case(client, headers, {"text": text, "from": f"c{n}@example.com"})
        client.post(f"/api/cases/{case_id}/route", json={"route": route}, headers=headers)
    builtin = web.kit.model

    web_jobs(web).retrain_router()

    index = json.loads((tmp_path / "models" / "index.json").read_text(encoding="utf-8"))
    [version] = index["versions"]
    assert (version["version"], version["labels"], version["source"]) == (1, len(labels(app)), "desk")
    assert (web.kit.model is not builtin) is version["promoted"]
    web_jobs(web).retrain_router()  # no new labels: no new version
    assert len(json.loads((tmp_path / "models" / "index.json").read_text(encoding="utf-8"))["versions"]) == 1
