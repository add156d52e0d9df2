"""Telling the history formats apart by a file's first bytes, and garbage never raising."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeAlias

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.adapters.files.history import freshdesk, gorgias, helpscout, mbox_threads, zendesk
from aftersales.domain.history import BadRecord, HistoryConversation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "history"
Reader: TypeAlias = Callable[[Path], Iterator[HistoryConversation | BadRecord]]
SNIFFERS = {
    "zendesk": zendesk.sniff,
    "gorgias": gorgias.sniff,
    "helpscout": helpscout.sniff,
    "freshdesk": freshdesk.sniff,
    "mbox": mbox_threads.sniff,
}
READERS: dict[str, Reader] = {
    "zendesk": zendesk.read,
    "gorgias": gorgias.read,
    "helpscout": helpscout.read,
    "freshdesk": freshdesk.read,
    "mbox": mbox_threads.read,
}
OURS = {
    "id": "c-1",
    "subject": "Parcel never arrived",
    "status": "closed",
    "created_at": "2026-03-02T09:15:00+00:00",
    "closed_at": "2026-03-04T16:00:00+00:00",
    "tags": ["wismo"],
    "customer": {"email": "anna@example.com", "name": "Anna Berg"},
    "order": "1043",
    "assignee": "sam@northwind.example",
    "messages": [
        {
            "id": "m-1",
            "from": "anna@example.com",
            "at": "2026-03-02T09:15:00+00:00",
            "direction": "in",
            "body": "Where is it?",
            "attachments": [],
        }
    ],
}


def _ours(folder: Path) -> Path:
    path = folder / "history.jsonl"
    path.write_text(json.dumps(OURS) + "\n" + json.dumps(OURS | {"id": "c-2"}) + "\n")
    return path


@pytest.mark.parametrize(
    ("file", "format_"),
    [
        ("zendesk.json", "zendesk"),
        ("zendesk-export.json", "zendesk"),
        ("gorgias.json", "gorgias"),
        ("helpscout.json", "helpscout"),
        ("freshdesk.json", "freshdesk"),
        ("shared-inbox.mbox", "mbox"),
    ],
)
def test_each_export_is_told_by_its_own_sniffer_only(file: str, format_: str) -> None:
    found = {name for name, sniff in SNIFFERS.items() if sniff(FIXTURES / file)}

    assert found == {format_}


def test_our_own_json_lines_and_other_files_are_no_vendors(tmp_path: Path) -> None:
    other = tmp_path / "orders.csv"
    other.write_text("id,email\n1,a@example.com\n")
    for path in (_ours(tmp_path), other, tmp_path / "missing.json", tmp_path):
        assert {name for name, sniff in SNIFFERS.items() if sniff(path)} == set(), path


@pytest.mark.parametrize(
    ("name", "key"), [("gorgias", "data"), ("freshdesk", "tickets"), ("helpscout", "_embedded")]
)
def test_an_export_written_one_ticket_a_line_reads_as_the_document_does(
    tmp_path: Path, name: str, key: str
) -> None:
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    tickets = document[key]["conversations"] if key == "_embedded" else document[key]
    lines = tmp_path / f"{name}.jsonl"
    lines.write_text("".join(json.dumps(ticket) + "\n" for ticket in tickets))

    as_lines = [item for item in READERS[name](lines) if isinstance(item, HistoryConversation)]
    whole = [
        item for item in READERS[name](FIXTURES / f"{name}.json") if isinstance(item, HistoryConversation)
    ]

    assert SNIFFERS[name](lines)
    assert [c.id for c in as_lines] == [c.id for c in whole]
    if name == "freshdesk":
        # the agents and contacts are beside the tickets: one ticket a line knows fewer people
        assert (as_lines[1].customer_email, whole[1].customer_email) == ("", "finn@example.com")
    else:
        assert as_lines == whole


# ----------------------------------------------------------------------------- garbage

_KEYS = sorted(
    {"id", "status", "subject", "created_at", "updated_at", "tags", "comments", "users", "author_id"}
    | {"public", "body", "html_body", "attachments", "size", "file_name", "requester_id", "role", "email"}
    | {"tickets", "ticket_events", "child_events", "event_type", "custom_fields", "ticket_fields", "title"}
    | {"value", "metric_set", "solved_at", "via", "source", "from", "address", "requester", "name"}
    | {"data", "messages", "ticket_id", "from_agent", "channel", "sender", "created_datetime", "customer"}
    | {"closed_datetime", "assignee_user", "stripped_text", "body_text", "_embedded", "conversations"}
    | {"threads", "type", "state", "createdBy", "createdAt", "closedAt", "primaryCustomer", "customFields"}
    | {"first", "last", "tag", "conversation", "description_text", "incoming", "private", "user_id"}
    | {"from_email", "responder_id", "agents", "contacts", "contact", "stats", "closed_at", "assignee"}
)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "9999-12-31T23:59:59+14:00"])
    | st.sampled_from(["open", "closed", "solved", "customer", "note", "internal-note", "a@b.c", "lineitem"])
)
_JSON = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(_KEYS), children, max_size=8)
    ),
    max_leaves=40,
)
_GARBAGE_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_everything(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_bytes(content)
        for name, reader in READERS.items():
            for item in reader(path):
                assert isinstance(item, HistoryConversation | BadRecord), name
            assert isinstance(SNIFFERS[name](path), bool)


@_GARBAGE_SETTINGS
@given(st.binary(max_size=400))
def test_garbage_bytes_never_raise(content: bytes) -> None:
    _read_everything(content)


@_GARBAGE_SETTINGS
@given(_JSON)
def test_garbage_json_documents_never_raise(document: object) -> None:
    _read_everything(json.dumps(document).encode())


@_GARBAGE_SETTINGS
@given(st.lists(_JSON, min_size=2, max_size=4))
def test_garbage_json_lines_never_raise(records: list[object]) -> None:
    _read_everything("\n".join(json.dumps(record) for record in records).encode())


@_GARBAGE_SETTINGS
@given(st.text(max_size=300))
def test_garbage_mail_never_raises(text: str) -> None:
    _read_everything(b"From x Mon Mar  2 10:20:00 2026\n" + text.encode("utf-8", "surrogatepass"))
