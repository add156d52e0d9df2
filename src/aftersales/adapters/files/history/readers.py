"""The history formats the import reads, by name, and which one a file is in.

``READERS`` maps each format to its reader (``read(path)`` yields conversations and bad
records); ``SNIFFERS`` to its check of a file's shape, tried in order by ``detect_format``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from aftersales.adapters.files.history import (
    aftersales_jsonl,
    freshdesk,
    gorgias,
    helpscout,
    mbox_threads,
    zendesk,
)
from aftersales.domain.errors import InputError
from aftersales.domain.history import BadRecord, HistoryConversation, HistoryFormat

Reader = Callable[[Path], Iterator[HistoryConversation | BadRecord]]

READERS: dict[HistoryFormat, Reader] = {
    HistoryFormat.AFTERSALES: aftersales_jsonl.read,
    HistoryFormat.ZENDESK: zendesk.read,
    HistoryFormat.GORGIAS: gorgias.read,
    HistoryFormat.HELPSCOUT: helpscout.read,
    HistoryFormat.FRESHDESK: freshdesk.read,
    HistoryFormat.MBOX: mbox_threads.read,  # every message the customer's: see ``read_history``
}
SNIFFERS: dict[HistoryFormat, Callable[[Path], bool]] = {
    HistoryFormat.AFTERSALES: aftersales_jsonl.sniff,
    HistoryFormat.ZENDESK: zendesk.sniff,
    HistoryFormat.GORGIAS: gorgias.sniff,
    HistoryFormat.HELPSCOUT: helpscout.sniff,
    HistoryFormat.FRESHDESK: freshdesk.sniff,
    HistoryFormat.MBOX: mbox_threads.sniff,
}
_OURS = (".jsonl", ".ndjson")


def detect_format(path: Path) -> HistoryFormat:
    """The format of the file: a .jsonl or .ndjson of our shape is ours; else the first
    format whose sniff recognises it. InputError when none does."""
    if path.suffix.lower() in _OURS and aftersales_jsonl.sniff(path):
        return HistoryFormat.AFTERSALES
    for name, sniff in SNIFFERS.items():
        if sniff(path):
            return name
    known = ", ".join(f.value for f in READERS)
    raise InputError(
        f"cannot tell which tool's export this is (known formats: {known}); name it with --format",
        str(path),
    )


def history_files(path: Path) -> list[Path]:
    """The files an argument names: the file itself, or every file of a folder (not its
    hidden files or sub-folders), by name."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return [path]


def read_history(
    path: Path, history_format: HistoryFormat | None, *, store_addresses: Collection[str] = ()
) -> Iterator[HistoryConversation | BadRecord]:
    """Every conversation of a file or folder (``None``: each file's format found by
    ``detect_format``). Every file's format is settled before the first is read, so an
    unknown one stops the import before anything is written. A bad record of a folder's file
    names the file (the vendor readers' do already). Raises InputError for a file that cannot be read or whose format is
    unknown. ``store_addresses``: the store's own addresses, whose mail in an mbox is its
    replies."""
    planned = []
    for file in history_files(path):
        found = history_format or detect_format(file)
        reader = READERS.get(found)
        if found is HistoryFormat.MBOX:
            own = frozenset(address.strip().lower() for address in store_addresses)
            reader = functools.partial(mbox_threads.read, store_addresses=own)
        if reader is None:
            raise InputError(f"the {found.value} format cannot be read by this version", str(file))
        planned.append((file, reader))
    return _records(planned, in_folder=path.is_dir())


def _records(
    planned: list[tuple[Path, Reader]], *, in_folder: bool
) -> Iterator[HistoryConversation | BadRecord]:
    for file, reader in planned:
        try:
            for record in reader(file):
                if in_folder and isinstance(record, BadRecord) and not record.where.startswith(file.name):
                    yield BadRecord(where=f"{file.name} {record.where}", problem=record.problem)
                else:
                    yield record
        except OSError as error:
            raise InputError(f"cannot read the file: {error.strerror or error}", str(file)) from None
