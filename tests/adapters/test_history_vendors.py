"""The help desks' exports read into history conversations: tickets, directions, notes, times,
customers, assignees, tags, order numbers, and the records that cannot be read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

import pytest

from aftersales.adapters.files.history import freshdesk, gorgias, helpscout, zendesk
from aftersales.adapters.files.history.vendor_json import order_field
from aftersales.domain.history import BadRecord, HistoryConversation, HistoryDirection

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "history"
IN, OUT, NOTE = HistoryDirection.IN, HistoryDirection.OUT, HistoryDirection.NOTE
Reader: TypeAlias = Callable[[Path], Iterator[HistoryConversation | BadRecord]]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _split(
    found: list[HistoryConversation | BadRecord],
) -> tuple[dict[str, HistoryConversation], list[BadRecord]]:
    conversations = {item.id: item for item in found if isinstance(item, HistoryConversation)}
    return conversations, [item for item in found if isinstance(item, BadRecord)]


def _directions(conversation: HistoryConversation) -> list[tuple[str, HistoryDirection, str]]:
    return [(message.id, message.direction, message.sender) for message in conversation.messages]


# ----------------------------------------------------------------------------- Zendesk


def test_zendesk_tickets_come_with_their_comments_users_and_order() -> None:
    conversations, bad = _split(list(zendesk.read(FIXTURES / "zendesk.json")))

    parcel = conversations["35436"]
    assert (parcel.subject, parcel.status, parcel.tags) == (
        "Parcel never arrived",
        "closed",
        ("wismo", "shipping"),
    )
    assert (parcel.customer_email, parcel.customer_name) == ("anna@example.com", "Anna Berg")
    assert (parcel.assignee, parcel.order) == ("sam@northwind.example", "1043")
    assert (parcel.created_at, parcel.closed_at) == (_at("2026-03-02T09:15:00"), _at("2026-03-04T16:00:00"))
    assert _directions(parcel) == [
        ("9001", IN, "anna@example.com"),
        ("9002", NOTE, "sam@northwind.example"),
        ("9003", OUT, "sam@northwind.example"),
        ("9004", IN, "anna@example.com"),
    ]
    reply = parcel.messages[2]
    assert reply.body == "Sorry about that! A new parcel went out today, label attached."
    assert [(a.name, a.content_type, a.size) for a in reply.attachments] == [
        ("label.jpg", "image/jpeg", 2532)
    ]
    assert all(message.at.tzinfo is UTC for message in parcel.messages)

    size = conversations["35437"]
    assert (size.status, size.closed_at, size.assignee, size.order) == ("open", None, "", "")
    assert _directions(size) == [("9101", IN, "bob@example.net"), ("9102", NOTE, "ola@northwind.example")]

    assert bad == [
        BadRecord(
            where="zendesk.json ticket #3 (id 35438)",
            problem="comment 1 created_at 'yesterday' is not an ISO 8601 time",
        ),
        BadRecord(where="zendesk.json ticket #4 (id 35439)", problem="the ticket has no comments"),
    ]


def test_zendesk_full_json_export_without_users_takes_the_requester_as_the_customer() -> None:
    conversations, bad = _split(list(zendesk.read(FIXTURES / "zendesk-export.json")))

    assert bad == []
    parcel = conversations["35436"]
    # no users: the requester wrote the public comments of 1001, agents the rest
    assert [(m.direction, m.sender) for m in parcel.messages] == [
        (IN, "zendesk user 1001"),
        (NOTE, "zendesk user 2001"),
        (OUT, "zendesk user 2001"),
        (IN, "zendesk user 1001"),
    ]
    # the customer falls back to the address the ticket came in from (via.source.from)
    assert parcel.customer_email == "x@example.com"
    assert parcel.order == ""  # no ticket_fields to name the custom field
    assert conversations["35437"].status == "open"


def test_zendesk_comment_events_of_the_incremental_event_export(tmp_path: Path) -> None:
    export = tmp_path / "events.json"
    export.write_text(
        '{"tickets": [{"id": 7, "status": "open", "requester_id": 1, "submitter_id": 1,'
        ' "created_at": "2026-01-01T10:00:00Z", "subject": "Hi"}],'
        ' "ticket_events": [{"id": 1, "ticket_id": 7, "created_at": "2026-01-01T10:00:00Z",'
        ' "child_events": [{"id": 70, "event_type": "Comment", "author_id": 1, "body": "Hello",'
        ' "public": true}, {"id": 71, "event_type": "Change", "field_name": "status"}]}]}'
    )

    [conversation] = list(zendesk.read(export))

    assert isinstance(conversation, HistoryConversation)
    assert [(m.id, m.direction, m.at, m.body) for m in conversation.messages] == [
        ("70", IN, _at("2026-01-01T10:00:00"), "Hello")
    ]


def test_zendesk_comments_in_one_list_naming_their_tickets(tmp_path: Path) -> None:
    export = tmp_path / "dump.json"
    export.write_text(
        '{"tickets": [{"id": 8, "status": "closed", "requester_id": 1, "submitter_id": 1,'
        ' "assignee_email": "Sam@Northwind.example", "updated_at": "2026-01-02T10:00:00+01:00"}],'
        ' "comments": [{"id": 81, "ticket_id": 8, "author_id": 1, "body": "Hi",'
        ' "created_at": "2026-01-01T10:00:00Z"}, {"id": 99, "ticket_id": 9, "author_id": 1, "body": "other",'
        ' "created_at": "2026-01-01T10:00:00Z"}]}'
    )

    [conversation] = list(zendesk.read(export))

    assert isinstance(conversation, HistoryConversation)
    assert [m.id for m in conversation.messages] == ["81"]
    assert (conversation.assignee, conversation.status) == ("sam@northwind.example", "closed")
    # no creation time on the ticket: its first comment's; closed at its last update, in UTC
    assert (conversation.created_at, conversation.closed_at) == (
        _at("2026-01-01T10:00:00"),
        _at("2026-01-02T09:00:00"),
    )


# ----------------------------------------------------------------------------- Gorgias


def test_gorgias_tickets_come_with_their_messages_notes_and_utc_times() -> None:
    conversations, bad = _split(list(gorgias.read(FIXTURES / "gorgias.json")))

    mug = conversations["4521"]
    assert (mug.subject, mug.status, mug.tags) == ("Mug arrived broken", "closed", ("refund", "damaged"))
    assert (mug.customer_email, mug.customer_name, mug.assignee) == (
        "clara@example.com",
        "Clara Diaz",
        "sam@northwind.example",
    )
    assert (mug.created_at, mug.closed_at) == (
        _at("2026-02-10T08:00:00.367230"),
        _at("2026-02-11T10:30:00.120000"),
    )
    assert _directions(mug) == [
        ("61001", IN, "clara@example.com"),
        ("61002", NOTE, "sam@northwind.example"),
        ("61003", OUT, "sam@northwind.example"),
    ]
    assert mug.messages[0].body == "The mug arrived broken."  # the stripped text, without the quote
    assert [(a.name, a.size) for a in mug.messages[0].attachments] == [("photo.png", 48213)]

    chat = conversations["4522"]
    assert (chat.status, chat.closed_at, chat.assignee, chat.customer_name) == ("open", None, "", "Dev Patel")
    # a time without an offset is UTC, as Gorgias documents its times
    assert chat.created_at == _at("2026-02-12T14:00:00")
    assert _directions(chat) == [("61010", IN, "dev@example.org")]

    assert bad == [
        BadRecord(
            where="gorgias.json ticket #3 (id 4523)",
            problem="message 1 created_datetime is missing (found None)",
        )
    ]


def test_gorgias_messages_listed_beside_their_tickets(tmp_path: Path) -> None:
    export = tmp_path / "gorgias.json"
    export.write_text(
        '{"tickets": [{"id": 9, "status": "open", "created_datetime": "2026-01-01T10:00:00",'
        ' "customer": {"email": "A@Example.com"}, "tags": []}],'
        ' "messages": [{"id": 2, "ticket_id": 9, "from_agent": true, "public": true, "channel": "email",'
        ' "body_text": "Hi back", "created_datetime": "2026-01-01T11:00:00"},'
        ' {"id": 1, "ticket_id": 9, "from_agent": false, "public": true, "channel": "email",'
        ' "sender": {"email": "a@example.com"}, "body_text": "Hi", "created_datetime": "2026-01-01T10:00:00"}]}'
    )

    [conversation] = list(gorgias.read(export))

    assert isinstance(conversation, HistoryConversation)
    assert conversation.customer_email == "a@example.com"
    assert _directions(conversation) == [("1", IN, "a@example.com"), ("2", OUT, "gorgias agent")]


# ----------------------------------------------------------------------------- Help Scout


def test_helpscout_conversations_come_with_their_threads() -> None:
    conversations, bad = _split(list(helpscout.read(FIXTURES / "helpscout.json")))

    box = conversations["2391938111"]
    assert (box.subject, box.status, box.tags, box.order) == (
        "Box was crushed",
        "closed",
        ("damaged",),
        "1044",
    )
    assert (box.customer_email, box.customer_name, box.assignee) == (
        "dana@example.com",
        "Dana Ng",
        "lee@northwind.example",
    )
    assert (box.created_at, box.closed_at) == (_at("2026-01-05T12:00:00"), _at("2026-01-06T09:00:00"))
    # oldest first, the status line item left out
    assert _directions(box) == [
        ("88171881", IN, "dana@example.com"),
        ("88171882", NOTE, "lee@northwind.example"),
        ("88171883", OUT, "lee@northwind.example"),
    ]
    assert box.messages[0].body == "The box was crushed."
    assert [(a.name, a.content_type, a.size) for a in box.messages[0].attachments] == [
        ("box.jpg", "image/jpeg", 22)
    ]

    gift = conversations["2391938112"]
    assert (gift.status, gift.closed_at) == ("open", None)
    # chat threads go by who created them; the draft reply is left out
    assert _directions(gift) == [
        ("88171891", IN, "eli@example.com"),
        ("88171892", OUT, "lee@northwind.example"),
    ]

    spam = conversations["2391938113"]
    assert (spam.status, spam.closed_at) == ("closed", _at("2026-01-08T10:00:00"))

    assert bad == [
        BadRecord(
            where="helpscout.json conversation #4 (id 2391938114)", problem="the conversation has no threads"
        )
    ]


# ----------------------------------------------------------------------------- Freshdesk


def test_freshdesk_tickets_come_with_their_description_and_conversations() -> None:
    conversations, bad = _split(list(freshdesk.read(FIXTURES / "freshdesk.json")))

    lamp = conversations["20"]
    assert (lamp.subject, lamp.status, lamp.tags, lamp.order) == (
        "Return label",
        "closed",
        ("return",),
        "1045",
    )
    assert (lamp.customer_email, lamp.customer_name, lamp.assignee) == (
        "eve@example.com",
        "Eve Park",
        "kim@northwind.example",
    )
    assert (lamp.created_at, lamp.closed_at) == (_at("2026-04-01T09:00:00"), _at("2026-04-03T12:00:00"))
    assert _directions(lamp) == [
        ("description", IN, "eve@example.com"),
        ("302", NOTE, "kim@northwind.example"),
        ("301", OUT, "help@northwind.example"),
        ("303", IN, "eve@example.com"),
    ]
    assert lamp.messages[0].body == "I'd like to return the lamp."
    assert [(a.name, a.content_type, a.size) for a in lamp.messages[3].attachments] == [
        ("receipt.pdf", "application/pdf", 10240)
    ]

    # pending is open; an outbound e-mail ticket opens with the agent's message
    backorder = conversations["21"]
    assert (backorder.status, backorder.closed_at, backorder.order) == ("open", None, "")
    assert (backorder.customer_email, backorder.customer_name) == ("finn@example.com", "Finn Holt")
    assert _directions(backorder) == [("description", OUT, "kim@northwind.example")]

    assert bad == [
        BadRecord(
            where="freshdesk.json ticket #3 (id 22)",
            problem="status 'Open' is not a Freshdesk status number (2 to 5, or a custom one)",
        )
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(2, "open"), (3, "open"), (4, "closed"), (5, "closed"), (6, "open"), (1, None), (True, None)],
)
def test_freshdesk_status_numbers(tmp_path: Path, status: object, expected: str | None) -> None:
    export = tmp_path / "one.json"
    ticket = (
        '{"id": 1, "requester_id": 2, "status": %s, "created_at": "2026-01-01T00:00:00Z",'
        ' "description_text": "hi", "stats": {"resolved_at": "2026-01-02T00:00:00Z"}}'
    )
    export.write_text(ticket % ("true" if status is True else status))

    [found] = list(freshdesk.read(export))

    if expected is None:
        assert isinstance(found, BadRecord)
    else:
        assert isinstance(found, HistoryConversation)
        assert found.status == expected
        assert found.closed_at == (_at("2026-01-02T00:00:00") if expected == "closed" else None)


# ----------------------------------------------------------------------------- every vendor


@pytest.mark.parametrize(
    ("reader", "first_record"),
    [
        (zendesk.read, '{"id": 1, "status": "open", "requester_id": 1, "created_at": "2026-01-01T00:00:00Z"'),
        (gorgias.read, '{"id": 1, "status": "open", "created_datetime": "2026-01-01T00:00:00"'),
        (helpscout.read, '{"id": 1, "status": "active", "createdAt": "2026-01-01T00:00:00Z"'),
        (freshdesk.read, '{"id": 1, "status": 2, "requester_id": 1, "created_at": "2026-01-01T00:00:00Z"'),
    ],
)
def test_a_broken_json_line_is_reported_by_its_line_and_the_rest_read(
    tmp_path: Path, reader: Reader, first_record: str
) -> None:
    export = tmp_path / "tickets.jsonl"
    export.write_text(first_record + "}\n\n{not json\n" + first_record + ', "subject": "x"}\n')

    found = list(reader(export))
    bad = [item for item in found if isinstance(item, BadRecord)]

    assert len(bad) == len(found)
    assert [item.where for item in bad] == [
        "tickets.jsonl line 1 (id 1)",
        "tickets.jsonl line 3",
        "tickets.jsonl line 4 (id 1)",
    ]
    assert bad[1].problem.startswith("not JSON: ")


@pytest.mark.parametrize("reader", [zendesk.read, gorgias.read, helpscout.read, freshdesk.read])
def test_a_file_that_is_not_json_is_one_bad_record(tmp_path: Path, reader: Reader) -> None:
    export = tmp_path / "tickets.json"
    export.write_text('{"tickets": [')

    [found] = list(reader(export))

    assert isinstance(found, BadRecord)
    assert found.where == "tickets.json"
    assert found.problem.startswith("not a JSON file: ")


@pytest.mark.parametrize("reader", [zendesk.read, gorgias.read, helpscout.read, freshdesk.read])
def test_a_missing_file_is_one_bad_record(tmp_path: Path, reader: Reader) -> None:

    [found] = list(reader(tmp_path / "gone.json"))

    assert found == BadRecord(where="gone.json", problem="cannot read the file: No such file or directory")


@pytest.mark.parametrize(
    ("reader", "status", "expected"),
    [
        (zendesk.read, "new", "open"),
        (zendesk.read, "open", "open"),
        (zendesk.read, "pending", "open"),
        (zendesk.read, "hold", "open"),
        (zendesk.read, "solved", "closed"),
        (zendesk.read, "closed", "closed"),
        (zendesk.read, "deleted", "the ticket was deleted in Zendesk, so it is not imported"),
        (gorgias.read, "open", "open"),
        (gorgias.read, "closed", "closed"),
        (gorgias.read, "snoozed", "status 'snoozed' is neither open nor closed"),
        (helpscout.read, "active", "open"),
        (helpscout.read, "pending", "open"),
        (helpscout.read, "closed", "closed"),
        (helpscout.read, "spam", "closed"),
        (helpscout.read, "", "status 'missing' is none of active, pending, closed, spam"),
    ],
)
def test_statuses_become_open_or_closed(tmp_path: Path, reader: Reader, status: str, expected: str) -> None:
    message = {
        "id": 1,
        "public": True,
        "body": "Hi",
        "body_text": "Hi",
        "type": "customer",
        "created_at": "2026-01-01T10:00:00Z",
        "created_datetime": "2026-01-01T10:00:00Z",
        "createdAt": "2026-01-01T10:00:00Z",
    }
    export = tmp_path / "one.json"
    export.write_text(
        json.dumps(
            {
                "id": 5,
                "status": status,
                "comments": [message],
                "messages": [message],
                "_embedded": {"threads": [message]},
            }
        )
    )

    [found] = list(reader(export))

    if isinstance(found, BadRecord):
        assert found.problem == expected
    else:
        assert found.status == expected
        assert found.closed_at == (_at("2026-01-01T10:00:00") if expected == "closed" else None)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"cf_order_number": "#1045"}, "1045"),
        ({"cf_order_status": "shipped", "cf_shopify_order": "NW-1046"}, "NW-1046"),
        ({"cf_order_date": "2026-01-01", "cf_reorder": "1047"}, ""),
        ({"cf_order_number": "none given"}, ""),
        ([{"name": "Order Number", "value": 1048}], "1048"),
        ([{"name": "Order", "value": None, "text": "#1049"}], "1049"),
        ([{"id": 360001, "value": "1050"}], "1050"),  # named by the ticket fields
        ([{"id": 360002, "value": "1051"}], ""),
        ("1052", ""),
    ],
)
def test_order_numbers_from_custom_fields(fields: object, expected: str) -> None:
    assert order_field(fields, {"360001": "Order number", "360002": "Reason"}) == expected
