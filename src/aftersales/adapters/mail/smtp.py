"""Send outbox mail through an SMTP server with the standard library's ``smtplib``.

One connection per mail: the outbox is small and sent on a timer, and a fresh connection
never trips over a server that dropped an idle one. Acknowledgements are marked as
automatic (RFC 3834 ``Auto-Submitted: auto-replied``; Exchange's
``X-Auto-Response-Suppress``) so that other desks and out-of-office replies stay quiet; so are
desk users' notifications and digests (``auto-generated``: no one answers them).
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from aftersales.domain.outgoing import MailKind, MailNotSent, OutgoingMail
from aftersales.domain.policy import StorePolicy
from aftersales.settings import MailSecurity, MailServer

DEFAULT_TIMEOUT_SECONDS = 30.0


def build_message(mail: OutgoingMail, *, sender: Address, at: datetime) -> EmailMessage:
    """The mail as MIME: a plain-text body, threading headers, and automatic-mail markers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        message["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        message["References"] = " ".join(f"<{i}>" for i in mail.references)
    if mail.kind is MailKind.ACKNOWLEDGEMENT:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    elif mail.kind in {MailKind.NOTIFICATION, MailKind.DIGEST}:
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.body)
    return message


class SmtpSender:
    """Sends one mail per call; raises MailNotSent naming the server, never the password."""

    def __init__(
        self,
        server: MailServer,
        *,
        from_address: str,
        from_name: str = "",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.server = server
        self.sender = Address(display_name=from_name, addr_spec=from_address)
        self.timeout = timeout

    @classmethod
    def for_store(
        cls, server: MailServer, policy: StorePolicy, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> SmtpSender:
        """Mail from the store: its support address, under its name."""
        return cls(server, from_address=policy.support_email, from_name=policy.store_name, timeout=timeout)

    def send(self, mail: OutgoingMail, *, at: datetime) -> None:
        try:
            message = build_message(mail, sender=self.sender, at=at)
            with self._connect() as smtp:
                if self.server.user:
                    smtp.login(self.server.user, self.server.password)
                smtp.send_message(message, from_addr=self.sender.addr_spec, to_addrs=[mail.to_address])
        except (smtplib.SMTPException, OSError, ValueError) as error:
            raise MailNotSent(self._describe(error)) from None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.server.host, self.server.port
        if self.server.security is MailSecurity.SSL:
            return smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(host, port, timeout=self.timeout)
        if self.server.security is MailSecurity.STARTTLS:
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _describe(self, error: Exception) -> str:
        """What failed and where; a password the server echoed back is blanked out."""
        server = self.server
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if server.password:
            reason = reason.replace(server.password, "********")
        return (
            f"cannot send through {server.host}:{server.port} "
            f"(AFTERSALES_SMTP_SECURITY={server.security.value}"
            + (f", AFTERSALES_SMTP_USER={server.user}" if server.user else "")
            + f"): {reason}"
        )
