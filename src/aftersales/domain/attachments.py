"""A case's files, each with its own id: what a customer's message carried, or what a person
uploaded for an evidence item. The content is stored apart, by SHA-256."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.values import MAX_ID

_ID = re.compile(r"[1-9][0-9]{0,9}")
_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFile:
    id: int
    case_id: int
    message_id: int | None  # the message that carried it; None for an upload
    evidence_key: str  # the evidence item it was uploaded for; "" for a message's file
    filename: str
    content_type: str  # as declared by the sender, not trusted for serving
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    from_customer: bool  # carried by a message of the customer (not a reply or a note)

    @property
    def looks_like_image(self) -> bool:
        """Declared as an image: listed with a thumbnail; served inline only when its bytes are one."""
        return self.content_type.lower().startswith("image/")


def file_id(reference: str) -> int | None:
    """The id in ``/attachments/{reference}``: plain digits within the id range, else None
    (a path, "../", a sign, spaces, non-ASCII digits)."""
    if not _ID.fullmatch(reference):
        return None
    number = int(reference)
    return number if number <= MAX_ID else None


def download_name(filename: str) -> str:
    """A file name safe to offer for saving: its last path part, without control characters,
    at most 200 characters; "attachment" when nothing is left."""
    last = re.split(r"[\\/]", filename)[-1]
    cleaned = "".join(c for c in last if unicodedata.category(c)[0] != "C").strip(" .")
    return cleaned[:_NAME_LENGTH] or "attachment"
