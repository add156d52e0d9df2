"""The history import: another tool's conversations into the desk as imported cases.

Given a JSON-lines file in the ``aftersales`` format (two good conversations, one with a reply
and a note; a line with a time without an offset and one with no messages), when it is
imported, then each conversation is a case with its customer, order, messages, notes and
timeline, closed or open as it was, marked as imported; the bad lines are reported by line
and skipped; importing it again changes nothing; a dry run writes nothing; no mail is ever
queued, no review request scheduled and no breach raised. Runs on SQLite, and on PostgreSQL
when configured.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.history_import import SqlHistoryStore, history_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.review_requests import review_requests_unit_of_work
from aftersales.adapters.files.history.readers import read_history
from aftersales.domain.history import HistoryFormat
from aftersales.domain.routes import Route
from aftersales.services.history_import import HistorySummary, import_history
from aftersales.services.intake import Incoming, Outcome, take_in
from aftersales.services.outbox import acknowledge
from aftersales.services.review_requests import schedule_and_send
from aftersales.services.routing import RoutingKit
from aftersales.services.sla import tick
from support.history import STORY, conversation, msg, write_lines
from support.messages import dump, message

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
HistoryUoW = Any


@pytest.fixture
def history(uow: SqlUnitOfWork, engine: Engine) -> HistoryUoW:
    """The history store on the emptied database (``uow`` empties it)."""
    return history_unit_of_work(engine)


def run(
    history: HistoryUoW, kit: RoutingKit, path: Path, *, now: datetime = NOW, **options: Any
) -> HistorySummary:
    return import_history(history, kit, read_history(path, HistoryFormat.AFTERSALES), now=now, **options)


def rows(uow: SqlUnitOfWork, table: str) -> list[dict[str, Any]]:
    return dump(uow)[table]


def test_a_file_is_imported_once_and_its_bad_lines_are_reported_by_line(
    uow: SqlUnitOfWork, history: HistoryUoW, kit: RoutingKit, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "past.jsonl", STORY)

    summary = run(history, kit, path)

    assert (summary.imported, summary.already, summary.skipped) == (2, 0, 2)
    assert (summary.messages, summary.notes) == (3, 1)
    assert [(b.where, b.problem.split(" must ")[0]) for b in summary.bad] == [
        ("line 3", "created_at"),
        ("line 4", 'the conversation has no messages ("messages"'),
    ]
    cases = {c["order_number"]: c for c in rows(uow, "cases")}
    closed, opened = cases["1043"], cases["1044"]
    assert (closed["status"], closed["order_number"], closed["imported_from"]) == (
        "closed",
        "1043",
        "aftersales",
    )
    assert closed["opened_at"] == datetime(2025, 3, 3, 9, tzinfo=UTC)
    assert closed["resolved_at"] == datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert closed["route_check"].startswith("imported from aftersales: routed by the local router")
    assert (opened["status"], opened["resolved_at"], opened["risk"], opened["next_due_at"]) == (
        "open",
        None,
        0,
        None,
    )
    messages = rows(uow, "messages")
    assert sorted(
        (m["direction"], m["sent_at"].isoformat()) for m in messages if m["case_id"] == closed["id"]
    ) == [
        ("inbound", "2025-03-03T09:00:00+00:00"),
        ("note", "2025-03-03T11:31:00+00:00"),
        ("outbound", "2025-03-03T11:30:00+00:00"),
    ]
    note = next(m for m in messages if m["direction"] == "note")
    assert note["attachments"] == [
        {"filename": "ticket.pdf", "content_type": "application/pdf", "size": 1234, "sha256": ""}
    ]
    assert rows(uow, "attachments") == []  # metadata only: no file was imported
    assert sorted(c["email"] for c in rows(uow, "customers")) == ["anna@example.com", "bob@example.com"]
    kinds = [e["kind"] for e in rows(uow, "events") if e["case_id"] == closed["id"]]
    assert kinds == ["history_opened", "history_closed", "imported"]
    hours = {
        r["conversation_id"]: (r["first_response_hours"], r["resolution_hours"])
        for r in rows(uow, "imported_conversations")
    }
    # the demo policy's hours (Mon-Fri 9-17 New York): Monday 09:00 UTC is before opening, so
    # the reply at 11:30 UTC (06:30 local) came before the store opened: 0 business hours
    assert hours["T-2"] == (None, None)
    assert hours["T-1"][0] == 0.0
    assert hours["T-1"][1] is not None
    assert hours["T-1"][1] > 0

    before = dump(uow)
    again = run(history, kit, path, now=datetime(2026, 11, 25, tzinfo=UTC))

    assert (again.imported, again.already, again.skipped, again.messages) == (0, 2, 2, 0)
    assert dump(uow) == before


def test_no_mail_no_review_request_and_no_breach_for_imported_cases(
    uow: SqlUnitOfWork, history: HistoryUoW, engine: Engine, kit: RoutingKit, tmp_path: Path
) -> None:
    run(history, kit, write_lines(tmp_path / "past.jsonl", STORY))
    before = dump(uow)

    ticked = tick(uow, kit, datetime(2026, 12, 24, tzinfo=UTC))
    swept = tick(uow, kit, datetime(2026, 12, 24, tzinfo=UTC), full=True)
    requests = schedule_and_send(review_requests_unit_of_work(engine), usage_days=14, now=NOW)

    # no clock of the open one runs, so the tick does not even look; the sweep does: nothing is late
    assert (ticked.cases, ticked.breaches, swept.cases, swept.breaches) == (0, 0, 1, 0)
    assert (requests.scheduled, requests.sent) == (0, 0)
    assert dump(uow) == before
    assert rows(uow, "outbox") == []
    assert rows(uow, "review_requests") == []
    assert rows(uow, "orders") == []


def test_a_customer_writing_again_after_the_import_starts_the_clocks_then_and_gets_no_receipt(
    uow: SqlUnitOfWork, history: HistoryUoW, kit: RoutingKit, tmp_path: Path
) -> None:
    run(history, kit, write_lines(tmp_path / "past.jsonl", STORY))
    case_id = next(c["id"] for c in rows(uow, "cases") if c["order_number"] == "1044")
    later = datetime(2026, 11, 24, 16, tzinfo=UTC)
    mail = message("Any news on the cracked mug of order 1044?", sender="bob@example.com", sent=later)

    result = take_in(uow, kit, Incoming(mail, "t"), now=later)
    acknowledged = acknowledge(uow, kit, case_id, mail, now=later)

    assert (result.outcome, result.case_id, acknowledged) == (Outcome.UPDATED_CASE, case_id, False)
    with uow() as cases:
        row = cases.case_row(case_id)
        timeline = [e["kind"] for e in cases.timeline(case_id)]
    first = next(c for c in row.clocks if c["name"] == "first_response")
    assert datetime.fromisoformat(first["started_at"]) == later  # the new message, not March 2025
    assert "clock_breached" not in timeline
    assert rows(uow, "outbox") == []


def test_a_dry_run_writes_nothing_and_counts_what_it_would_import(
    uow: SqlUnitOfWork, history: HistoryUoW, engine: Engine, kit: RoutingKit, tmp_path: Path
) -> None:
    path = write_lines(tmp_path / "past.jsonl", [*STORY, STORY[0]])  # T-1 twice: once counted
    before = dump(uow)

    summary = run(history, kit, path, dry_run=True)

    assert (summary.imported, summary.already, summary.skipped, summary.dry_run) == (2, 1, 2, True)
    assert dump(uow) == before


@pytest.mark.parametrize(
    ("since", "imported", "older"),
    [
        (None, 2, 0),
        (datetime(2025, 3, 4, tzinfo=UTC), 1, 1),  # T-1 opened on 3 March
        (datetime(2025, 3, 6, tzinfo=UTC), 0, 2),
    ],
)
def test_since_leaves_out_older_conversations(
    uow: SqlUnitOfWork,
    history: HistoryUoW,
    kit: RoutingKit,
    tmp_path: Path,
    since: datetime | None,
    imported: int,
    older: int,
) -> None:
    summary = run(history, kit, write_lines(tmp_path / "past.jsonl", STORY), since=since)

    assert (summary.imported, summary.older) == (imported, older)
    assert len(rows(uow, "cases")) == imported


def test_a_later_export_adds_only_the_new_messages(
    uow: SqlUnitOfWork, history: HistoryUoW, kit: RoutingKit, tmp_path: Path
) -> None:
    first = conversation("Z-9", msg("a", "2025-05-01T10:00:00+00:00"), status="open", closed_at=None)
    run(history, kit, write_lines(tmp_path / "one.jsonl", [first]))
    went_on = {
        **first,
        "messages": [*first["messages"], msg("b", "2025-05-02T10:00:00+00:00", "out", "On its way")],
    }

    summary = run(history, kit, write_lines(tmp_path / "two.jsonl", [went_on]))

    assert (summary.imported, summary.extended, summary.messages) == (0, 1, 1)
    (case,) = rows(uow, "cases")
    assert (case["last_message_direction"], case["last_message_preview"]) == ("outbound", "On its way")
    assert len(rows(uow, "messages")) == 2
    assert [e["kind"] for e in rows(uow, "events")].count("imported") == 2


def test_a_mapped_tag_routes_the_case_and_labels_it_and_the_assignee_is_the_desk_user(
    uow: SqlUnitOfWork, history: HistoryUoW, engine: Engine, kit: RoutingKit, tmp_path: Path
) -> None:
    with engine.begin() as db:
        db.execute(
            schema.users.insert(),
            {
                "email": "Priya@Example.com",
                "name": "Priya",
                "role": "agent",
                "password_hash": "x",
                "created_at": NOW,
            },
        )
    mapped = dataclasses.replace(
        kit, policy=dataclasses.replace(kit.policy, tag_routes={"wismo": Route.CHARGEBACK_RISK})
    )

    summary = run(history, mapped, write_lines(tmp_path / "past.jsonl", STORY))

    assert summary.labels == 1
    case = next(c for c in rows(uow, "cases") if c["order_number"] == "1043")
    assert case["route"] == "chargeback_risk"
    assert case["route_check"] == "imported from aftersales: routed by its tag 'wismo' ([history.tag_routes])"
    with engine.connect() as db:
        user_id = db.execute(select(schema.users.c.id)).scalar_one()
    assert case["assignee_user_id"] == user_id
    (label,) = rows(uow, "route_labels")
    assert (label["case_id"], label["route"], label["source"], label["labelled_by"]) == (
        case["id"],
        "chargeback_risk",
        "history",
        "aftersales tag wismo",
    )
    assert label["text"].startswith("Order question\n\nMy order 1043 has not arrived")


def test_imported_cases_events_never_reach_the_event_feed(
    uow: SqlUnitOfWork, history: HistoryUoW, kit: RoutingKit, tmp_path: Path
) -> None:
    from aftersales.domain.event_feed import FeedConsumer

    run(history, kit, write_lines(tmp_path / "past.jsonl", STORY))

    with uow() as cases:
        assert cases.feed_events(FeedConsumer.WEBHOOKS, limit=100) == []


def test_the_store_is_a_history_store(engine: Engine) -> None:
    with engine.connect() as db:
        store = SqlHistoryStore(db)
        assert store.imported_cases("aftersales", []) == {}
        assert store.stored_message_keys([]) == set()
