"""An mbox file read front to back, one message at a time, in bounded memory.

The standard library's ``mailbox.mbox`` indexes the whole file first and silently drops two
things: the text before the first ``From `` line, and the first message of a file that begins
with a UTF-8 byte order mark (its ``From `` line then starts with the mark). This reader keeps
both: the first is yielded as message 0 (it is read like any other message, so it is taken in
when it is mail and quarantined with its reason when it is not) and the mark is skipped.

Each message is exactly what ``mailbox.mbox.get_bytes`` gives: the bytes after its ``From ``
line up to the next one, without the blank line that separates them. A message over the cap is
never held: its bytes are counted and dropped, and it is yielded with ``over_cap`` set. The
file is read in blocks of ``_BLOCK`` bytes, so even a file without a single line break costs
the memory of the cap, not of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

_FROM = b"From "
_BOM = b"\xef\xbb\xbf"
_NEW_FROM = b"\nFrom "
_BLOCK = 64 * 1024


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
    tail: bytes = b""  # the last two bytes gathered: does the message end with a blank line?

    def add(self, piece: bytes) -> None:
        if not piece:
            return
        self.size += len(piece)
        if self.size <= self.cap:
            self.pieces.append(piece)
        else:
            self.pieces.clear()
        self.tail = (self.tail + piece[-2:])[-2:]

    def done(self) -> MboxMessage:
        over = self.size > self.cap  # the pieces were let go of
        data = b"" if over else b"".join(self.pieces)
        size = self.size
        # the blank line before the next From line separates; it is not the message's
        if self.tail == b"\n\n" or (size == 1 and self.tail == b"\n"):
            data, size = data[:-1], size - 1
        return MboxMessage(self.number, data, size, over_cap=over)


def mbox_messages(handle: BinaryIO, cap: int, *, block: int = _BLOCK) -> Iterator[MboxMessage]:
    """The messages of the open mbox file ``handle``, each at most ``cap`` bytes held.

    The file is read in blocks and searched for lines that start with ``From ``; the last few
    bytes of a block wait for the next one, since such a line may begin across the two.
    """
    current = _Gathering(0, cap)
    number = 0
    in_from_line = False  # skipping a From line up to its line break
    line_start = True  # ``carry`` begins at the start of a line
    carry = handle.read(max(block, len(_BOM))).removeprefix(_BOM)
    while True:
        chunk = handle.read(block)
        data, at_end = carry + chunk, not chunk
        pos = 0
        while True:
            if in_from_line:
                newline = data.find(b"\n", pos)
                if newline < 0:
                    pos = len(data)  # the rest of a long From line: not needed
                    break
                pos, in_from_line = newline + 1, False
                continue
            found = _next_from_line(data, pos, line_start=line_start)
            if found < 0:
                break
            current.add(data[pos:found])
            if current.number > 0 or _has_text(current):
                yield current.done()
            number += 1
            current = _Gathering(number, cap)
            pos, in_from_line = found, True
        if at_end:
            if not in_from_line:
                current.add(data[pos:])
            break
        cut = len(data) if in_from_line else max(pos, len(data) - len(_NEW_FROM) + 1)
        current.add(data[pos:cut])
        line_start = data[cut - 1] == 10 if cut > 0 else line_start
        carry = data[cut:]
    if current.number > 0 or _has_text(current):
        yield current.done()


def _next_from_line(data: bytes, pos: int, *, line_start: bool) -> int:
    """Where the next line starting with ``From `` begins at or after ``pos``; -1 if none."""
    at_line_start = data[pos - 1] == 10 if pos > 0 else line_start
    if at_line_start and data.startswith(_FROM, pos):
        return pos
    found = data.find(_NEW_FROM, pos)
    return found + 1 if found >= 0 else -1


def _has_text(preamble: _Gathering) -> bool:
    """Text before the first From line counts when it is more than blank lines."""
    return preamble.size > preamble.cap or any(piece.strip() for piece in preamble.pieces)


def starts_like_mbox(start: bytes) -> bool:
    """True when a file's first bytes are an mbox ``From `` line (after a byte order mark)."""
    return start.removeprefix(_BOM).startswith(_FROM)
