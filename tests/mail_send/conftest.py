"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1 that keeps what it receives.

aiosmtpd's ``Controller(port=0)`` does not report the port it bound, so a free port is picked
first (docs stack notes, pitfall 8).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from aftersales.settings import MailSecurity, MailServer

USER = "desk@northwind.example"
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the test server received: (envelope sender, recipients, parsed message)."""

    port: int
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def server(self, **changes: Any) -> MailServer:
        """Settings that reach this server (plain SMTP on loopback)."""
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": "",
            "password": "",
            "security": MailSecurity.NONE,
        }
        return MailServer(**(values | changes))


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=True would leave the client waiting


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """An SMTP server that accepts every mail, and AUTH LOGIN/PLAIN with USER and PASSWORD."""
    inbox = Inbox(free_port())
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
