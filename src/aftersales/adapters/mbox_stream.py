"""An mbox file read front to back, one message at a time, in bounded memory.

The standard library's ``mailbox.mbox`` indexes the whole file first and silently drops two
things: the text before the first ``From `` line, and the first message of a file that begins
with a UTF-8 byte order mark (its ``From `` line then starts with the mark). This reader keeps
both: the first is yielded as message 0 (it is read like any other message, so it is taken in
when it is mail and quarantined with its reason when it is not) and the mark is skipped.

Each message is exactly what ``mailbox.mbox.get_bytes`` gives: the bytes after its ``From ``
line up to the next one, without the blank line that separates them. A message over the cap is
never held: its bytes are counted and dropped, and it is yielded with ``over_cap`` set. Lines
are read in pieces of at most ``_PIECE`` bytes, so even a file without a single line break
costs the memory of the cap, not of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

_FROM = b"From "
_BOM = b"\xef\xbb\xbf"
_PIECE = 64 * 1024


@dataclass(frozen=True, slots=True)
class MboxMessage:
    """One message: ``number`` 1 is the first after a ``From `` line, 0 the text before it."""

    number: int
    data: bytes  # b"" when over the cap
    size: int  # its bytes in the file
    over_cap: bool = False


@dataclass(slots=True)
class _Gathering:
    number: int
    cap: int
    pieces: list[bytes] = field(default_factory=list)
    size: int = 0
    last_line_blank: bool = False

    def add(self, piece: bytes, *, line_start: bool) -> None:
        self.size += len(piece)
        if self.size <= self.cap:
            self.pieces.append(piece)
        else:
            self.pieces.clear()
        self.last_line_blank = line_start and piece == b"\n"

    def done(self) -> MboxMessage:
        data = b"".join(self.pieces)
        size = self.size
        if self.last_line_blank and self.size <= self.cap:
            # the blank line before the next From line separates; it is not the message's
            data, size = data[:-1], size - 1
        return MboxMessage(self.number, data, size, over_cap=self.size > self.cap)


def mbox_messages(handle: BinaryIO, cap: int) -> Iterator[MboxMessage]:
    """The messages of the open mbox file ``handle``, each at most ``cap`` bytes held."""
    current = _Gathering(0, cap)
    number = 0
    line_start = True
    first = True
    while piece := handle.readline(_PIECE):
        if first and piece.startswith(_BOM):
            piece = piece[len(_BOM) :]
        first = False
        if line_start and piece.startswith(_FROM):
            if current.number > 0 or _has_text(current):
                yield current.done()
            number += 1
            current = _Gathering(number, cap)
            # the From line itself is not part of the message; skip the rest of a long one
            while not piece.endswith(b"\n") and (piece := handle.readline(_PIECE)):
                pass
            line_start = True
            continue
        current.add(piece, line_start=line_start)
        line_start = piece.endswith(b"\n")
    if current.number > 0 or _has_text(current):
        yield current.done()


def _has_text(preamble: _Gathering) -> bool:
    """Text before the first From line counts when it is more than blank lines."""
    return preamble.size > preamble.cap or any(piece.strip() for piece in preamble.pieces)


def starts_like_mbox(start: bytes) -> bool:
    """True when a file's first bytes are an mbox ``From `` line (after a byte order mark)."""
    return start.removeprefix(_BOM).startswith(_FROM)
