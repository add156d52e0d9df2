"""A case-page form the desk refuses comes back on the case page, never on a dead end.

Given a case and a signed-in user, when a form is refused (the reply fails its checks, the role
may not, the input is not valid, the case changed meanwhile), then the answer is the case page
again with the site menu, its 4xx status, the typed text still in its field, the reason beside
it in plain words (no command-line hints) and, where the role may, a working "send anyway";
nothing is stored. The error page itself has the menu and a Back link that works under the
site's CSP. On SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role

from .case_page import CasePage
from .test_web_desk import CHARGEBACK, WHERE_IS, new_case, row_counts

Headers = Callable[[Role], dict[str, str]]
NO_TIME = "We are looking into it with the carrier and will be in touch."
PROMISE = "We have asked the carrier for a trace and will update you by Tuesday 3 pm."


def open_page(client: TestClient, case_id: int) -> CasePage:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return CasePage(response.text)


def assert_on_the_case_page(page: CasePage, case_id: int) -> None:
    """The case page (not a bare error page), with the site menu and no command-line hint."""
    assert page.has("reply-form"), "not the case page"
    assert f'action="/cases/{case_id}/reply"' in page.html
    assert "<nav>" in page.html
    assert 'href="/cases"' in page.html
    assert "--force" not in page.html
    assert "javascript:" not in page.html


# form, fields posted, role, message of the case → status, the field that keeps its text, the
# element beside it that gives the reason, words the reason holds
REFUSED = [
    pytest.param(
        "reply",
        {"text": NO_TIME},
        Role.OPERATIONS,
        WHERE_IS,
        (422, ("reply-form", "text"), "reply-problem", "fails its checks"),
        id="a reply that names no next-update time",
    ),
    pytest.param(
        "reply",
        {"text": "   "},
        Role.OPERATIONS,
        WHERE_IS,
        (422, ("reply-form", "text"), "reply-problem", "Write the reply first"),
        id="an empty reply",
    ),
    pytest.param(
        "reply",
        {"text": PROMISE, "next_update": "next tuesday"},
        Role.OPERATIONS,
        WHERE_IS,
        (422, ("reply-form", "text"), "reply-problem", "is not a date and time"),
        id="a next-update time that is not a time",
    ),
    pytest.param(
        "decision",
        {"decision": "full refund", "amount": "500"},
        Role.FRONTLINE,
        WHERE_IS,
        (403, ("decision-form", "decision"), "decision-problem", "above the frontline limit"),
        id="frontline above the refund limit",
    ),
    pytest.param(
        "decision",
        {"decision": "refund", "amount": "ten"},
        Role.OPERATIONS,
        WHERE_IS,
        (422, ("decision-form", "decision"), "decision-problem", "is not a number"),
        id="an amount that is not a number",
    ),
    pytest.param(
        "status",
        {"status": "closed"},
        Role.FRONTLINE,
        CHARGEBACK,
        (403, None, "status-problem", "may not close a chargeback_risk case"),
        id="frontline closing a chargeback case",
    ),
    pytest.param(
        "status",
        {"status": "new"},
        Role.OPERATIONS,
        WHERE_IS,
        (409, None, "status-problem", "new"),
        id="a move the desk does not allow",
    ),
    pytest.param(
        "note",
        {"text": ""},
        Role.OPERATIONS,
        WHERE_IS,
        (422, ("note-form", "text"), "note-problem", "Write the note first"),
        id="an empty note",
    ),
    pytest.param(
        "route",
        {"route": "teleport", "reason": "because"},
        Role.OPERATIONS,
        WHERE_IS,
        (422, ("change-route-form", "reason"), "route-problem", "Unknown route 'teleport'"),
        id="an unknown route",
    ),
]


@pytest.mark.parametrize(("form", "fields", "role", "message", "expected"), REFUSED)
def test_a_refused_form_comes_back_on_the_case_page_with_its_text_and_reason(
    app: FastAPI,
    client: TestClient,
    token: Headers,
    signed_in: Callable[[Role], str],
    form: str,
    fields: dict[str, str],
    role: Role,
    message: dict[str, str],
    expected: tuple[int, tuple[str, str] | None, str, str],
) -> None:
    status, kept, reason_id, reason = expected
    case_id = new_case(client, token(Role.OPERATIONS), message)
    csrf = signed_in(role)
    open_page(client, case_id)
    before = row_counts(app)

    response = client.post(f"/cases/{case_id}/{form}", data={**fields, "csrf_token": csrf})

    assert response.status_code == status, response.text
    page = CasePage(response.text)
    assert_on_the_case_page(page, case_id)
    assert reason in page.text(reason_id)
    if kept is not None:
        assert page.field(*kept) == fields[kept[1]]
    assert row_counts(app) == before


def test_a_reply_refused_by_its_checks_offers_send_anyway_and_it_sends(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    csrf = signed_in(Role.FRONTLINE)
    shown = open_page(client, case_id)
    seen = shown.field("reply-form", "seen_event_id")

    refused = CasePage(
        client.post(
            f"/cases/{case_id}/reply", data={"text": NO_TIME, "seen_event_id": seen, "csrf_token": csrf}
        ).text
    )
    anyway = refused.attr("send-anyway", "name"), refused.attr("send-anyway", "value")
    sent = client.post(
        f"/cases/{case_id}/reply",
        data={
            "text": refused.field("reply-form", "text"),
            "seen_event_id": seen,
            "force": "true",
            "csrf_token": csrf,
        },
    )

    assert anyway == ("force", "true")
    assert 'data-check="no_next_step_time"' in refused.html
    assert sent.status_code == 303
    outbound = [
        m
        for m in client.get(f"/api/cases/{case_id}", headers=headers).json()["messages"]
        if m["direction"] == "outbound"
    ]
    assert [m["body"] for m in outbound] == [NO_TIME]


def test_choices_the_role_cannot_make_are_not_offered(
    client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    headers = token(Role.OPERATIONS)
    chargeback, shipping = new_case(client, headers, CHARGEBACK), new_case(client, headers, WHERE_IS)
    signed_in(Role.FRONTLINE)

    on_chargeback, on_shipping = open_page(client, chargeback), open_page(client, shipping)

    offered = on_chargeback.html.split('id="status-select"', 1)[1].split("</select>", 1)[0]
    assert 'value="resolved"' not in offered
    assert 'value="closed"' not in offered
    assert not on_chargeback.has("decision-amount")  # frontline gives no money back on chargebacks
    assert not on_chargeback.has("change-route")
    assert on_shipping.attr("decision-amount", "max") == "50.00"  # the policy's frontline limit
    assert on_shipping.attr("decision-amount", "type") == "number"


@pytest.mark.parametrize(
    ("path", "status", "back"),
    [
        pytest.param("/cases/999999", 404, "/cases", id="an unknown case"),
        pytest.param("/cases/{id}/reply", 403, "/cases/{id}", id="a form without its CSRF token"),
        pytest.param("/nowhere", 404, "/cases", id="an unknown page"),
    ],
)
def test_the_error_page_has_the_site_menu_and_a_back_link_that_works_without_script(
    client: TestClient, token: Headers, signed_in: Callable[[Role], str], path: str, status: int, back: str
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    signed_in(Role.OPERATIONS)
    url = path.replace("{id}", str(case_id))

    response = client.post(url, data={"text": PROMISE}) if "reply" in url else client.get(url)

    assert response.status_code == status
    page = CasePage(response.text)
    assert page.attr("back", "href") == back.replace("{id}", str(case_id))
    assert "<nav>" in page.html
    assert "Sign out" in page.html
    assert "javascript:" not in page.html
