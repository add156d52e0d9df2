"""The streaming mbox reader gives what mailbox.mbox gives, holds at most the cap, and keeps
what mailbox.mbox drops (text before the first From line, the first message after a BOM)."""

from __future__ import annotations

import io
import mailbox

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aftersales.adapters.mail.mbox import mbox_messages

_LINES = st.lists(
    st.sampled_from(
        [b"From a@b Mon Jan 1 00:00:00 2026\n", b"\n", b"Subject: x\n", b"body\n", b"\r\n", b"xx"]
    )
    | st.binary(max_size=20),
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(_LINES, st.integers(min_value=1, max_value=40) | st.just(1024 * 1024), st.booleans())
def test_messages_are_those_of_mailbox_mbox(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], block: int, from_first: bool
) -> None:
    """Whatever the block size: a From line split across blocks is still found."""
    data = (b"From start@b Mon Jan 1 00:00:00 2026\n" if from_first else b"") + b"".join(lines)
    assume(not data.startswith(b"\xef\xbb\xbf"))  # where this reader keeps what mailbox.mbox drops
    path = tmp_path_factory.mktemp("mbox") / "box"
    path.write_bytes(data)
    box = mailbox.mbox(path, create=False)
    expected = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    got = [m for m in mbox_messages(io.BytesIO(data), cap=10_000, block=block)]
    assert [m.data for m in got if m.number > 0] == expected, (data, block)
    assert all(m.size == len(m.data) for m in got)


def test_a_message_over_the_cap_is_counted_not_held() -> None:
    data = b"From a\nSubject: big\n\n" + b"y" * 5_000 + b"\n\nFrom b\nSubject: small\n\nhi\n"
    first, second = mbox_messages(io.BytesIO(data), cap=1_000)
    assert first.over_cap
    assert first.data == b""
    assert first.size > 5_000
    assert second.data == b"Subject: small\n\nhi\n"


def test_a_file_without_line_breaks_is_read_in_pieces() -> None:
    data = b"From a\n" + b"z" * 300_000
    (only,) = mbox_messages(io.BytesIO(data), cap=100_000)
    assert only.over_cap
    assert only.size == 300_000


def test_text_before_the_first_from_line_is_message_0_and_blank_lines_are_not() -> None:
    data = b"Subject: early\n\nbefore\nFrom a\nSubject: one\n\nbody\n"
    numbers = [(m.number, m.data) for m in mbox_messages(io.BytesIO(data), cap=1_000)]
    assert numbers == [(0, b"Subject: early\n\nbefore\n"), (1, b"Subject: one\n\nbody\n")]
    blank = b"\n\n" + data[data.index(b"From") :]
    assert [m.number for m in mbox_messages(io.BytesIO(blank), cap=1_000)] == [1]


def test_a_byte_order_mark_does_not_hide_the_first_message() -> None:
    data = b"\xef\xbb\xbfFrom a\nSubject: one\n\nbody\n\nFrom b\nSubject: two\n\nbody\n"
    assert [m.number for m in mbox_messages(io.BytesIO(data), cap=1_000)] == [1, 2]
