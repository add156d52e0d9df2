"""The JSON that help desks export, read into records, and the tolerant readers of their fields.

A vendor file is either one JSON document (an API response, or a dump that puts several
responses side by side: ``{"tickets": [...], "users": [...]}``) or JSON lines (one record a
line, as Zendesk's full JSON export writes them). JSON lines are read one line at a time, so a
file of any length costs the memory of its longest line; a document is read whole, since the
standard library has no streaming JSON parser. Nothing here raises for what a file holds: a
record that cannot be read becomes a ``BadRecord`` naming the file and the record.

The field readers raise ``BadValue`` with a reason naming the field; each adapter turns that
into the ``BadRecord`` of the conversation it was reading.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

from aftersales.adapters.mail.parse import clean_text, html_to_text
from aftersales.domain.history import BadRecord, HistoryMessage
from aftersales.domain.values import BadValue, in_window, shown

Record: TypeAlias = Mapping[str, object]
Located: TypeAlias = tuple[str, object]  # where a record is ("tickets.json ticket #4"), the record

# the widest values the cases, customers and messages tables take (see adapters/db/schema.py);
# an address longer than RFC 5321 allows is no address at all
ADDRESS_WIDTH, NAME_WIDTH, SUBJECT_WIDTH, ORDER_WIDTH = 320, 200, 998, 64
SNIFF_BYTES = 64 * 1024
# "Order status" and "Order date" are about an order but hold no order number
_NOT_ORDER_NUMBERS = frozenset(
    {"status", "date", "time", "type", "reason", "total", "amount", "count", "tracking"}
)
_LABELS = ("name", "title", "label", "key")


@dataclass(frozen=True, slots=True)
class Export:
    """What a vendor file holds: ``document`` is its top-level object when it is one JSON
    object (where the side tables such as ``users`` are), else empty; ``records`` are the
    conversations in file order, each with where it is, or the problem with one."""

    document: Record
    records: Iterator[Located | BadRecord] = field(default_factory=lambda: iter(()))


def read_export(path: Path, *, lists: Sequence[Sequence[str]], label: str) -> Export:
    """The records of the export at ``path``.

    ``lists`` are where a document keeps its records, as key paths tried in order (a list
    there gives its items, an object one record); a document with none of them is one record
    itself. ``label`` names a record in messages: "ticket" gives "tickets.json ticket #4".
    """
    try:
        with path.open("rb") as handle:
            first = handle.readline()
            rest = handle.read(SNIFF_BYTES)
            while rest and not rest.strip():  # blank lines between JSON lines
                rest = handle.read(SNIFF_BYTES)
    except OSError as error:
        return Export(
            {}, iter([BadRecord(where=path.name, problem=f"cannot read the file: {error.strerror}")])
        )
    if rest.strip() and _is_object(first):
        # more after a first line that is a whole object: JSON lines (a pretty-printed
        # document's first line is "{" or "[", never a whole object)
        return Export({}, _lines(path))
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        return Export({}, iter([BadRecord(where=path.name, problem=f"not a JSON file: {_reason(error)}")]))
    if isinstance(document, list):
        return Export({}, _items(path.name, label, document))
    if not isinstance(document, dict):
        return Export({}, iter([BadRecord(where=path.name, problem="not a JSON object or list")]))
    for keys in lists:
        found = _at(document, keys)
        if isinstance(found, list):
            return Export(document, _items(path.name, label, found))
        if isinstance(found, dict):
            return Export(document, iter([(f"{path.name} {label} #1", found)]))
    return Export(document, iter([(f"{path.name} {label} #1", document)]))


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line.decode("utf-8-sig")), dict)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


def _lines(path: Path) -> Iterator[Located | BadRecord]:
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                where = f"{path.name} line {number}"
                try:
                    yield where, json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError) as error:
                    yield BadRecord(where=where, problem=f"not JSON: {_reason(error)}")
    except OSError as error:
        yield BadRecord(where=path.name, problem=f"cannot read the file: {error.strerror}")


def _items(name: str, label: str, items: list[object]) -> Iterator[Located]:
    return ((f"{name} {label} #{number}", item) for number, item in enumerate(items, start=1))


def _at(document: Record, keys: Sequence[str]) -> object:
    found: object = document
    for key in keys:
        if not isinstance(found, dict):
            return None
        found = found.get(key)
    return found


def _reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).split("\n")[0][:200]


def head(path: Path) -> str:
    """The first ``SNIFF_BYTES`` of a file as text, "" when it cannot be read: what sniffing looks at."""
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def has_keys(text: str, *keys: str) -> bool:
    """Whether the JSON text names every one of ``keys`` as an object key."""
    return all(re.search(rf'"{re.escape(key)}"\s*:', text) for key in keys)


def has_any_key(text: str, *keys: str) -> bool:
    return any(has_keys(text, key) for key in keys)


def looks_like_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


# ----------------------------------------------------------------------------- field readers


def record(value: object, what: str) -> Record:
    """``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        raise BadValue(f"{what} is not a JSON object but {shown(value)}")
    return value


def optional_record(value: object) -> Record:
    """``value`` when it is a JSON object, else an empty one (a field that may be null)."""
    return value if isinstance(value, dict) else {}


def text(value: object) -> str:
    """A string field as text (numbers written out); "" for null, a missing field or anything else."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def identifier(value: object, what: str) -> str:
    """A record's id: a number or a non-empty string."""
    found = text(value).strip() if not isinstance(value, float) else ""
    if not found:
        raise BadValue(f"{what} has no id (found {shown(value)})")
    return found[:200]


def items(value: object, what: str) -> list[object]:
    """A list field; null or missing is an empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadValue(f"{what} is not a list but {shown(value)}")
    return value


def moment(value: object, what: str, *, naive_is_utc: bool = False) -> datetime:
    """An ISO 8601 time in UTC. ``naive_is_utc``: the vendor documents its times as UTC but
    writes some without an offset."""
    if not isinstance(value, str) or not value.strip():
        raise BadValue(f"{what} is missing (found {shown(value)})")
    try:
        found = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadValue(f"{what} {shown(value)} is not an ISO 8601 time") from None
    if found.utcoffset() is None:
        if not naive_is_utc:
            raise BadValue(f"{what} {shown(value)} has no time zone offset")
        found = found.replace(tzinfo=UTC)
    return in_window(found, what).astimezone(UTC)


def optional_moment(value: object, what: str, *, naive_is_utc: bool = False) -> datetime | None:
    """``moment``, or None for null or a missing field."""
    if value is None or value == "":
        return None
    return moment(value, what, naive_is_utc=naive_is_utc)


def address(value: object) -> str:
    """An e-mail address, lower-cased; "" when ``value`` is none."""
    found = text(value).strip().lower()
    return found if "@" in found and len(found) <= ADDRESS_WIDTH and " " not in found else ""


def name(*parts: object) -> str:
    """A person's name from its parts ("first", "last"), blanks dropped."""
    return " ".join(part for part in (text(piece).strip() for piece in parts) if part)[:NAME_WIDTH]


def body(plain: object, html: object) -> str:
    """A message's text: the plain text when there is any, else the HTML's text."""
    found = text(plain)
    if found.strip():
        return found.strip()
    return html_to_text(text(html))


def tag_names(values: list[object], key: str = "name") -> tuple[str, ...]:
    """Tags given as strings or as objects with the tag in ``key``, blanks and repeats dropped."""
    found = (text(value.get(key)) if isinstance(value, dict) else text(value) for value in values)
    return tuple(dict.fromkeys(tag.strip() for tag in found if tag.strip()))


def order_field(fields: object, names: Mapping[str, str] | None = None) -> str:
    """The order number (with a digit in it) of the first custom field whose name has the word
    "order" and no word such as "status" or "date". Fields are an object of name → value
    (Freshdesk), a list of objects with a name and a value (Help Scout), or a list of id and
    value whose names ``names`` gives by id (Zendesk's ticket fields)."""
    for label, value in _named_values(fields, names or {}):
        words = set(re.split(r"[^a-z0-9]+", label.lower()))
        number = text(value.get("value") if isinstance(value, dict) else value).strip().lstrip("#").strip()
        if (
            "order" in words
            and not words & _NOT_ORDER_NUMBERS
            and len(number) <= ORDER_WIDTH
            and any(character.isdigit() for character in number)
        ):
            return number
    return ""


def _named_values(fields: object, names: Mapping[str, str]) -> list[tuple[str, object]]:
    if isinstance(fields, dict):
        return [(str(key), value) for key, value in fields.items()]
    if not isinstance(fields, list):
        return []
    pairs: list[tuple[str, object]] = []
    for entry in fields:
        if isinstance(entry, dict):
            label = next((found for key in _LABELS if (found := text(entry.get(key)))), "")
            value = entry.get("value")
            pairs.append(
                (label or names.get(text(entry.get("id")), ""), value if value else entry.get("text"))
            )
    return pairs


def where_with_id(where: str, raw: object, key: str = "id") -> str:
    """Where a record is, with its id when it has one: "tickets.json ticket #4 (id 35436)"."""
    found = text(raw.get(key)).strip() if isinstance(raw, dict) else ""
    return f"{where} (id {found[:40]})" if found else where


def size(value: object) -> int:
    """An attachment's size in bytes; 0 when not given as a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else 0


def in_time_order(messages: list[HistoryMessage]) -> tuple[HistoryMessage, ...]:
    """Messages oldest first; messages at the same moment keep their order in the file."""
    return tuple(sorted(messages, key=lambda message: message.at))
