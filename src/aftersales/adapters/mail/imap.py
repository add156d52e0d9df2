"""The store's support inbox over IMAP (imap-tools), read-only.

The folder is opened with EXAMINE (read-only: the server itself refuses any change to it) and
messages are fetched with ``BODY.PEEK[]``, so polling never marks mail seen, never flags, moves
or deletes it: the store's own mail client shows the inbox exactly as before. Messages are
fetched in batches, so a large backfill costs the memory of one batch.

Errors name the server, the folder and the settings to check, never the password.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxFolderStatusError, MailboxLoginError

from aftersales.domain.errors import AftersalesError
from aftersales.settings import MailSecurity, MailServer

TIMEOUT_SECONDS = 60.0  # a server that stops answering fails the poll instead of hanging it
_UID = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)
_SETTINGS = "AFTERSALES_IMAP_HOST, AFTERSALES_IMAP_PORT and AFTERSALES_IMAP_SECURITY"
_LOGIN_SETTINGS = "AFTERSALES_IMAP_USER and AFTERSALES_IMAP_PASSWORD"
# What can go wrong talking to a server: the network, TLS, the IMAP protocol, a refused command.
_IMAP_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError, ValueError, UnicodeError)


class ImapError(AftersalesError):
    """The inbox cannot be reached or read; the message names the server and the settings to
    check, never the password."""


def mailbox_key(server: MailServer, folder: str) -> str:
    """How the bookkeeping names a mailbox: ``user@host/folder``."""
    return f"{server.user}@{server.host}/{folder}"


def message_url(server: MailServer, folder: str, uidvalidity: int, uid: int) -> str:
    """The message's IMAP URL (RFC 5092), e.g. ``imap://support%40store.example@imap.example.com/INBOX;UIDVALIDITY=7;UID=42``."""
    user = quote(server.user, safe="")
    return f"imap://{user}@{server.host}/{quote(folder, safe='/')};UIDVALIDITY={uidvalidity};UID={uid}"


class ImapMailbox:
    """One folder of one account, opened read-only: ``with ImapMailbox(server, "INBOX") as box:``.

    ``uidvalidity`` and ``highest_uid`` are read when the folder is opened (STATUS): every
    message already in it then has a UID up to ``highest_uid``.
    """

    def __init__(self, server: MailServer, folder: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.server = server
        self.folder = folder
        self.key = mailbox_key(server, folder)
        self.timeout = timeout
        self.uidvalidity = 0
        self.highest_uid = 0
        self._box: BaseMailBox | None = None

    def __repr__(self) -> str:
        return f"ImapMailbox({self.key!r}, {self.server.security.value})"

    def __enter__(self) -> Self:
        box = self._connect()
        try:
            self._log_in(box)
            self._open_folder(box)
        except BaseException:
            _close_quietly(box)
            raise
        self._box = box
        return self

    def reopen(self) -> None:
        """Connect, log in and open the folder again: Dovecot drops the connection when it
        cannot read one message's file, and the poll goes on past that message."""
        if self._box is not None:
            _close_quietly(self._box)
            self._box = None
        self.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._box is not None:
            _close_quietly(self._box)
            self._box = None

    # ---------------------------------------------------------------- reading
    def uids_since(self, day: date) -> list[int]:
        """UIDs of the messages the server received on ``day`` or later (SEARCH SINCE: the
        server's arrival date, not the Date header), ascending."""
        return self._search(str(AND(date_gte=day)))

    def uids_above(self, uid: int) -> list[int]:
        """UIDs above ``uid``, ascending (``UID n:*`` always matches the newest message, so it
        is filtered here)."""
        return [found for found in self._search(f"UID {uid + 1}:*") if found > uid]

    def fetch(self, uids: Sequence[int]) -> list[tuple[int, bytes]]:
        """The raw bytes of these messages, as (uid, bytes) by ascending UID, in one command
        (callers bound the batch). A UID deleted meanwhile is simply missing from the result."""
        if not uids:
            return []
        box = self._open_box()
        try:
            status, response = box.client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        except _IMAP_ERRORS as error:
            raise self._read_error("fetching messages", error) from None
        if status != "OK":
            raise ImapError(f"{self._where()}: the server refused to send messages: {_said(response)}")
        wanted = set(uids)
        return sorted((uid, data) for uid, data in _fetched(response) if uid in wanted)

    def source(self, uid: int) -> str:
        return message_url(self.server, self.folder, self.uidvalidity, uid)

    # ---------------------------------------------------------------- opening
    def _connect(self) -> BaseMailBox:
        host, port, timeout = self.server.host, self.server.port, self.timeout
        try:
            if self.server.security is MailSecurity.SSL:
                return MailBox(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
            if self.server.security is MailSecurity.STARTTLS:
                return MailBoxStartTls(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
            return MailBoxUnencrypted(host, port, timeout=timeout)
        except _IMAP_ERRORS as error:
            raise ImapError(
                f"cannot connect to the IMAP server {host}:{port} ({self.server.security.value}): "
                f"{self._redacted(error)}; check {_SETTINGS}"
            ) from None

    def _log_in(self, box: BaseMailBox) -> None:
        user, password = self.server.user, self.server.password
        try:
            if user.isascii() and password.isascii():
                box.login(user, password, initial_folder=None)
            else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8
                box.login_utf8(user, password, initial_folder=None)
        except MailboxLoginError as error:
            raise ImapError(
                f"the IMAP server {self.server.host}:{self.server.port} refused the login for "
                f"{user!r}: {self._redacted(_said(error.command_result[1]))}; check {_LOGIN_SETTINGS}"
            ) from None
        except _IMAP_ERRORS as error:
            raise ImapError(
                f"cannot log in to the IMAP server {self.server.host}:{self.server.port} as {user!r}: "
                f"{self._redacted(error)}; check {_LOGIN_SETTINGS}"
            ) from None

    def _open_folder(self, box: BaseMailBox) -> None:
        try:
            status = box.folder.status(self.folder, ("UIDVALIDITY", "UIDNEXT"))
            box.folder.set(self.folder, readonly=True)  # EXAMINE: the server refuses any change
        except MailboxFolderStatusError:
            raise ImapError(
                f"the IMAP server {self.server.host}:{self.server.port} has no folder {self.folder!r}: "
                "check AFTERSALES_IMAP_FOLDER"
            ) from None
        except _IMAP_ERRORS as error:
            raise self._read_error("opening the folder", error) from None
        self.uidvalidity = status.get("UIDVALIDITY", 0)
        self.highest_uid = max(status.get("UIDNEXT", 1) - 1, 0)

    # ---------------------------------------------------------------- helpers
    def _open_box(self) -> BaseMailBox:
        if self._box is None:
            raise RuntimeError("use `with ImapMailbox(...) as box:` to open the mailbox first")
        return self._box

    def _search(self, criteria: str) -> list[int]:
        try:
            # no CHARSET: the criteria are ASCII, and some servers refuse an explicit one
            found = self._open_box().uids(criteria, charset=None)
        except _IMAP_ERRORS as error:
            raise self._read_error("searching the folder", error) from None
        return sorted(int(uid) for uid in found)

    def _where(self) -> str:
        return f"IMAP {self.server.host}:{self.server.port}, folder {self.folder!r}"

    def _read_error(self, doing: str, error: BaseException) -> ImapError:
        return ImapError(f"{self._where()}: {doing} failed: {self._redacted(error)}")

    def _redacted(self, error: BaseException | str) -> str:
        """The error's text, with the password blanked should a server ever echo it back."""
        text = str(error) or type(error).__name__
        password = self.server.password
        return text.replace(password, "********") if password else text


def _fetched(response: Sequence[Any]) -> Iterator[tuple[int, bytes]]:
    """(uid, bytes) from an imaplib FETCH response: ``(b'1 (UID 5 BODY[] {n}', data)`` items,
    the UID sometimes coming after the literal instead (``b' UID 5)'``)."""
    waiting: bytes | None = None
    for item in response:
        if isinstance(item, tuple) and len(item) == 2:  # (head, literal)
            head, data = item
            uid = _UID.search(head)
            if uid is not None:
                yield int(uid.group(1)), bytes(data)
                waiting = None
            else:
                waiting = bytes(data)
        elif isinstance(item, bytes) and waiting is not None:
            uid = _UID.search(item)
            if uid is not None:
                yield int(uid.group(1)), waiting
            waiting = None


def _said(response: Any) -> str:
    """What the server said, as text: ``[b'[AUTHENTICATIONFAILED] Authentication failed.']``."""
    parts = response if isinstance(response, list | tuple) else [response]
    text = " ".join(
        part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
        for part in parts
        if part is not None
    )
    return text.strip() or "no reason given"


def _close_quietly(box: BaseMailBox) -> None:
    """LOGOUT, ignoring a connection that is already gone: nothing is left to tidy on the server."""
    try:
        box.logout()
    except _IMAP_ERRORS:
        with contextlib.suppress(*_IMAP_ERRORS):
            box.client.shutdown()
