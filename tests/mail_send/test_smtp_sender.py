"""The SMTP sender against a real (aiosmtpd) server: headers as sent, login, and errors that
name the server and setting but never the password."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from aftersales.adapters.mail.smtp import SmtpSender
from aftersales.domain.outgoing import MailKind, MailNotSent, OutgoingMail
from aftersales.settings import MailSecurity

from .conftest import PASSWORD, USER, Inbox, free_port

AT = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
REPLY = OutgoingMail(
    case_id=42,
    kind=MailKind.REPLY,
    message_id="reply-1@northwind.example",
    to_address="ana@example.com",
    subject="Re: Where is my order? [case 42]",
    body="We asked the carrier; I'll update you by tomorrow 3 pm.",
    in_reply_to="m2@cust.example",
    references=("m1@cust.example", "m2@cust.example"),
)


def _sender(smtp: Inbox, **server: object) -> SmtpSender:
    return SmtpSender(
        smtp.server(**server),
        from_address="support@northwind.example",
        from_name="Northwind Tumblers",
        timeout=5,
    )


def test_a_reply_goes_out_with_its_threading_headers(smtp: Inbox) -> None:
    _sender(smtp).send(REPLY, at=AT)

    ((envelope_from, recipients, sent),) = smtp.received
    assert (envelope_from, recipients) == ("support@northwind.example", ["ana@example.com"])
    assert sent["From"] == "Northwind Tumblers <support@northwind.example>"
    assert sent["To"] == "ana@example.com"
    assert sent["Subject"] == "Re: Where is my order? [case 42]"
    assert sent["Date"] == "Tue, 24 Nov 2026 15:30:00 +0000"
    assert sent["Message-ID"] == "<reply-1@northwind.example>"
    assert sent["In-Reply-To"] == "<m2@cust.example>"
    assert sent["References"] == "<m1@cust.example> <m2@cust.example>"
    assert sent["Auto-Submitted"] is None
    assert sent.get_content().strip() == REPLY.body


def test_an_acknowledgement_is_marked_automatic(smtp: Inbox) -> None:
    _sender(smtp).send(dataclasses.replace(REPLY, kind=MailKind.ACKNOWLEDGEMENT), at=AT)

    ((_, _, sent),) = smtp.received
    assert (sent["Auto-Submitted"], sent["X-Auto-Response-Suppress"]) == ("auto-replied", "All")


def test_the_sender_logs_in_when_a_user_is_set(smtp: Inbox) -> None:
    _sender(smtp, user=USER, password=PASSWORD).send(REPLY, at=AT)

    assert len(smtp.received) == 1


FAILURES = [
    pytest.param(
        {"user": USER, "password": "wrong-password-42"},
        "AFTERSALES_SMTP_USER=desk@northwind.example): SMTPAuthenticationError",
        id="a refused login",
    ),
    pytest.param(
        {"security": MailSecurity.STARTTLS, "user": USER, "password": "wrong-password-42"},
        "(AFTERSALES_SMTP_SECURITY=starttls, AFTERSALES_SMTP_USER=desk@northwind.example): SMTPNotSupportedError",
        id="STARTTLS the server does not offer",
    ),
]


@pytest.mark.parametrize(("server", "expected"), FAILURES)
def test_a_failure_names_the_server_and_setting_but_not_the_password(
    smtp: Inbox, server: dict[str, object], expected: str
) -> None:
    with pytest.raises(MailNotSent) as raised:
        _sender(smtp, **server).send(REPLY, at=AT)

    assert str(raised.value).startswith(f"cannot send through 127.0.0.1:{smtp.port} ")
    assert expected in str(raised.value)
    assert "wrong-password-42" not in str(raised.value)
    assert smtp.received == []


def test_nothing_listening_is_a_failure_too(smtp: Inbox) -> None:
    port = free_port()
    sender = SmtpSender(
        smtp.server(port=port, user=USER, password=PASSWORD),
        from_address="support@northwind.example",
        timeout=5,
    )

    with pytest.raises(
        MailNotSent, match=rf"cannot send through 127\.0\.0\.1:{port} .*ConnectionRefusedError"
    ):
        sender.send(REPLY, at=AT)
