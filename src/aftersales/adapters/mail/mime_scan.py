"""A mail's MIME structure read from its raw bytes, before (and instead of) parsing it whole.

Two uses, both about what one large or hostile mail costs:

- ``mime_part_count``: how many parts the mail declares, in time linear in its size, so a mail
  of 50,000 tiny parts is refused before the parser spends a minute on it.
- ``lift_large_bodies``: the standard library parser holds a base64 body several times over
  while it reads it (the text, a list of its lines, the joined payload, the bytes again: about
  50 MB for one 7 MB photo). Large base64 bodies of leaf parts are cut out of the bytes first
  and decoded straight from the original bytes when the attachment is read; the parser sees
  each such part with an empty body and an ``X-Aftersales-Lifted`` header naming it.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass, field
from email.message import Message

_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_DELIMITER_LINE = re.compile(rb"^--([^\r\n]{1,200}?)[ \t]*\r?$", re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BASE64 = re.compile(rb"^content-transfer-encoding:[ \t]*base64[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_NOT_A_LEAF_FILE = re.compile(
    rb"^content-type:[ \t]*(?:text|multipart|message)/", re.IGNORECASE | re.MULTILINE
)
_ATTACHED_MAIL = re.compile(rb"^content-type:[ \t]*message/", re.IGNORECASE | re.MULTILINE)
LIFT_BYTES = 256 * 1024  # smaller bodies cost the parser little
LIFTED_HEADER = "X-Aftersales-Lifted"


def mime_part_count(data: bytes) -> int:
    """How many parts the message declares, without parsing it: the opening delimiter lines
    ("--" and a boundary some Content-Type declares), plus the message itself."""
    boundaries = _boundaries(data)
    if not boundaries:
        return 1
    return 1 + sum(1 for line in _DELIMITER_LINE.finditer(data) if line.group(1) in boundaries)


def _boundaries(data: bytes) -> set[bytes]:
    return {found.group(1) or found.group(2) for found in _BOUNDARY_PARAM.finditer(data)}


@dataclass(frozen=True, slots=True)
class Lifted:
    """The mail's bytes with large base64 bodies cut out, and those bodies by their number."""

    data: bytes
    bodies: dict[str, memoryview] = field(default_factory=dict)

    def content_of(self, part: Message) -> bytes | None:
        """A lifted part's decoded bytes; None for a part that was not lifted."""
        number = part.get(LIFTED_HEADER)
        body = self.bodies.get(str(number)) if number is not None else None
        if body is None:
            return None
        try:
            return binascii.a2b_base64(body)
        except binascii.Error:
            # a body cut short loses its padding; the parser would decode it with a defect too
            try:
                return binascii.a2b_base64(bytes(body).rstrip() + b"==")
            except binascii.Error:
                return b""


def lift_large_bodies(data: bytes) -> Lifted:
    """``data`` with each large base64 body of a leaf part (not text, not an attached mail) cut
    out. Mails with an attached mail are left whole: its bytes are kept as they came."""
    boundaries = _boundaries(data)
    if not boundaries or _ATTACHED_MAIL.search(data):
        return Lifted(data)
    delimiters = [
        line
        for line in _DELIMITER_LINE.finditer(data)
        if line.group(1) in boundaries or line.group(1).removesuffix(b"--") in boundaries
    ]
    kept: list[bytes] = []
    bodies: dict[str, memoryview] = {}
    nonce = secrets.token_hex(8)
    view = memoryview(data)
    done = 0
    for opening, following in zip(delimiters, delimiters[1:], strict=False):
        if opening.group(1) not in boundaries:
            continue  # a closing delimiter: what follows is an epilogue
        start = opening.end() + 1
        split = _HEADER_END.search(data, start, following.start())
        if split is None or following.start() - split.end() < LIFT_BYTES:
            continue
        headers = data[start : split.start()]
        if not _BASE64.search(headers) or _NOT_A_LEAF_FILE.search(headers):
            continue
        # a name the sender cannot have written into a part of their own
        number = f"{nonce}-{len(bodies)}"
        newline = b"\r\n" if split.group().startswith(b"\r") else b"\n"
        kept += [data[done : split.start()], newline, f"{LIFTED_HEADER}: {number}".encode(), split.group()]
        bodies[number] = view[split.end() : following.start()]
        done = following.start()
    if not bodies:
        return Lifted(data)
    kept.append(data[done:])
    return Lifted(b"".join(kept), bodies)
