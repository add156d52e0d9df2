"""Large base64 bodies decoded apart give the very attachments the standard parser gives."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.adapters.mail.mime_scan import LIFT_BYTES, lift_large_bodies, mime_part_count
from aftersales.adapters.mail.parse import parse_email
from aftersales.domain.messages import ParseProblem

RECEIVED = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _mail(sizes: list[int], *, crlf: bool) -> bytes:
    mail = EmailMessage()
    mail["From"] = "ana@example.com"
    mail["Subject"] = "photos"
    mail.set_content("Photos of the dented lid attached.")
    for number, size in enumerate(sizes):
        mail.add_attachment(os.urandom(size), maintype="image", subtype="jpeg", filename=f"p{number}.jpg")
    return mail.as_bytes(policy=SMTP) if crlf else mail.as_bytes()


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.sampled_from([10, 5_000, LIFT_BYTES, LIFT_BYTES * 2 + 7]), min_size=1, max_size=4),
    st.booleans(),
)
def test_lifted_attachments_are_the_parsers_own(sizes: list[int], crlf: bool) -> None:
    data = _mail(sizes, crlf=crlf)
    result = parse_email(data, source="t", received_at=RECEIVED)
    assert not isinstance(result, ParseProblem)
    message, attachments = result
    assert [len(content) for _, content in attachments] == sizes
    assert message.body == "Photos of the dented lid attached."
    lifted = lift_large_bodies(data)
    assert len(lifted.bodies) == sum(1 for size in sizes if size * 4 // 3 >= LIFT_BYTES)
    assert len(lifted.data) <= len(data) - sum(size for size in sizes if size * 4 // 3 >= LIFT_BYTES)


def test_a_sender_cannot_name_a_lifted_body() -> None:
    data = _mail([LIFT_BYTES], crlf=False).replace(
        b"Content-Type: text/plain", b"X-Aftersales-Lifted: 0\nContent-Type: text/plain", 1
    )
    result = parse_email(data, source="t", received_at=RECEIVED)
    assert not isinstance(result, ParseProblem)
    assert result[0].body.startswith("Photos")


def test_parts_are_counted_from_the_bytes() -> None:
    assert mime_part_count(_mail([10, 10, 10], crlf=False)) == 5  # the mail, its multipart... and 4 leaves
