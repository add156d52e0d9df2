"""Log lines without customer data: an exception's own text may hold a customer's e-mail
address or message (a database error quotes the values it could not store; an SMTP refusal
quotes the recipient), so failures are logged by type, statement and our own frames, and any
text from outside has its addresses masked."""

from __future__ import annotations

import logging
import os
import re
import traceback

from sqlalchemy.exc import StatementError

_PACKAGE = f"{os.sep}aftersales{os.sep}"  # the frames of our own code: where it went wrong
_ADDRESS = re.compile(r"[^\s<>@\"',;:()]+@[^\s<>@\"',;:()]+")


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """The error's type, where it was raised and a short message that carries no customer data."""
    ours = [f for f in traceback.extract_tb(error.__traceback__) if _PACKAGE in f.filename]
    frames = "".join(traceback.format_list(ours[-8:]))
    log.error("%s: %s\n%s", what, short_description(error), frames.rstrip())


def short_description(error: BaseException) -> str:
    """ "OperationalError (sqlite3.OperationalError) in INSERT INTO events ..." or the type alone."""
    if isinstance(error, StatementError):
        cause = type(error.orig).__module__ + "." + type(error.orig).__name__ if error.orig else ""
        statement = " ".join((error.statement or "").split())[:200]
        return f"{type(error).__name__} ({cause}) in {statement}"
    return type(error).__name__


def masked(text: str) -> str:
    """``text`` with every e-mail address replaced by "<address>"."""
    return _ADDRESS.sub("<address>", text)
