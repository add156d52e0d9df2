"""Our history format, read line by line: every good line a conversation, every bad one a
BadRecord naming its line and what is wrong, and never an exception for what a line holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.adapters.files.history import aftersales_jsonl
from aftersales.adapters.files.history.readers import detect_format, read_history
from aftersales.domain.errors import InputError
from aftersales.domain.history import BadRecord, HistoryConversation, HistoryDirection, HistoryFormat
from support.history import STORY, conversation, msg, write_lines

GOOD = conversation("T-1", msg("m1", "2025-03-03T09:00:00+01:00"), tags=[" wismo "], order="#1043")


def line(data: object) -> bytes:
    return json.dumps(data).encode()


def test_a_good_line_is_a_conversation() -> None:
    read = aftersales_jsonl.read_line(line(GOOD), 1)

    assert isinstance(read, HistoryConversation)
    assert (read.source, read.id, read.status, read.order, read.tags) == (
        HistoryFormat.AFTERSALES,
        "T-1",
        "closed",
        "1043",
        ("wismo",),
    )
    (message,) = read.messages
    assert (message.direction, message.at) == (HistoryDirection.IN, datetime(2025, 3, 3, 8, tzinfo=UTC))


def _with(**changes: object) -> dict[str, object]:
    return {**GOOD, **changes}


def _message(**changes: object) -> dict[str, object]:
    return _with(messages=[{**msg("m1", "2025-03-03T09:00:00+00:00"), **changes}])


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "the line is not UTF-8 text"),
        (line([1, 2]), "a conversation is a JSON object, got a list"),
        (line(_with(id=None)), "id is missing"),
        (line(_with(id="  ")), "id is missing"),
        (line(_with(created_at="2025-03-05 09:00")), "created_at must be an ISO 8601 time with an offset"),
        (line(_with(created_at="2025-03-05T09:00:00")), "created_at must be an ISO 8601 time with an offset"),
        (line(_with(closed_at="yesterday")), "closed_at must be an ISO 8601 time with an offset"),
        (line(_with(messages=[])), "the conversation has no messages"),
        (line(_with(messages=None)), "the conversation has no messages"),
        (line(_with(status="archived")), "status 'archived' is not one of open, pending, resolved, closed"),
        (line(_message(direction="sideways")), "message 1: direction 'sideways' is not one of in, out, note"),
        (line(_message(at="3 March")), "message 1: at must be an ISO 8601 time with an offset"),
        (
            line(_message(at="9999-12-31T23:59:59+00:00")),
            "message 1: at '9999-12-31T23:59:59+00:00' is out of range",
        ),
        (line(_message(body=3)), "message 1: body must be a string, got a number"),
        (
            line(_message(attachments=[{"name": "a.jpg", "size": -1}])),
            "message 1: attachment 1: size must be",
        ),
        (line(_with(messages=[msg("m1", "2025-03-03T09:00:00+00:00")] * 2)), "message id 'm1' appears twice"),
        (line(_with(tags="wismo")), "tags must be a list of strings"),
        (line(_with(customer="anna")), "customer must be an object"),
    ],
)
def test_a_bad_line_says_where_and_what(raw: bytes, problem: str) -> None:
    read = aftersales_jsonl.read_line(raw, 7)

    assert isinstance(read, BadRecord)
    assert read.where == "line 7"
    assert read.problem.startswith(problem), read.problem


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON,
        "status": st.sampled_from(["open", "closed", "x"]) | JSON,
        "created_at": st.sampled_from(["2025-03-03T09:00:00+00:00", "2025-03-03"]) | JSON,
        "closed_at": JSON,
        "tags": JSON,
        "customer": JSON,
        "order": JSON,
        "assignee": JSON,
        "messages": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": JSON,
                    "at": st.sampled_from(["2025-03-03T09:00:00+00:00"]) | JSON,
                    "direction": st.sampled_from(["in", "out", "note"]) | JSON,
                    "body": JSON,
                    "from": JSON,
                    "attachments": JSON,
                },
            )
            | JSON,
            max_size=3,
        )
        | JSON,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=200),
        FIELDS.map(lambda d: json.dumps(d).encode()),
        JSON.map(lambda d: json.dumps(d).encode()),
    )
)
def test_no_line_makes_the_reader_raise(raw: bytes) -> None:
    read = aftersales_jsonl.read_line(raw, 1)

    assert isinstance(read, HistoryConversation | BadRecord)


def test_a_file_streams_its_lines_and_skips_blank_ones(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "past.jsonl", [STORY[0], "", STORY[1], STORY[2]])

    read = list(aftersales_jsonl.read(path))

    assert [r.id if isinstance(r, HistoryConversation) else r.where for r in read] == ["T-1", "T-2", "line 4"]


def test_our_format_is_recognised_and_an_unknown_one_is_a_clear_error(tmp_path: Path) -> None:
    ours = write_lines(tmp_path / "past.jsonl", STORY)
    other = tmp_path / "tickets.csv"
    other.write_text("id,subject\n1,hello\n", encoding="utf-8")

    assert detect_format(ours) is HistoryFormat.AFTERSALES
    with pytest.raises(InputError, match="cannot tell which tool's export this is .*--format"):
        detect_format(other)


def test_a_folder_is_every_file_in_it_and_its_bad_records_name_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_lines(folder / "a.jsonl", STORY[:2])
    write_lines(folder / "b.jsonl", STORY[2:])
    (folder / ".hidden").write_text("ignored", encoding="utf-8")

    read = list(read_history(folder, None))

    assert [r.id if isinstance(r, HistoryConversation) else r.where for r in read] == [
        "T-1",
        "T-2",
        "b.jsonl line 1",
        "b.jsonl line 2",
    ]
