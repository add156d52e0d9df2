"""Google Merchant Center feeds read into feed items: a tab-separated file (one item per row,
attribute names in the header) or XML (RSS 2.0 ``<item>``s or Atom 1.0 ``<entry>``s with the
``g:`` namespace ``http://base.google.com/ns/1.0``), per the product data specification.

The format is told from the file's first character (``<`` is XML). Attribute names are
matched ignoring case, a ``g:`` prefix and spaces ("image link" is ``image_link``); the ones
the audit does not read are skipped. A feed is untrusted input: XML is parsed with
``defusedxml``, which refuses DTDs and entity declarations (the "billion laughs" expansion,
external entities). A file that cannot be read raises ``InputError`` naming the file and, for
XML, the line and column; an item without an id, or with an id seen before, is a
``FeedProblem`` naming its line (TSV) or item number (XML), and the other items are read.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from aftersales.domain.errors import InputError
from aftersales.domain.feed_audit import FeedItem, FeedProblem

GOOGLE_NS = "http://base.google.com/ns/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
_ATTRIBUTES = frozenset(field.name for field in dataclasses.fields(FeedItem)) - {"where"}
# plain RSS/Atom elements that stand for a g: attribute when the g: one is absent
_PLAIN = frozenset({"id", "title", "link", "description"})
_ID_WIDTH = 50  # the specification's limit; longer ids are refused by Merchant Center
_SNIFF_BYTES = 512
_DEFUSED = {
    "DTDForbidden": "a DTD (<!DOCTYPE …>)",
    "EntitiesForbidden": "an entity declaration",
    "ExternalReferenceForbidden": "an external entity reference",
}


def read_feed(path: Path) -> list[FeedItem | FeedProblem]:
    """Every item of the feed at ``path`` in file order, or the problem with one."""
    where = str(path)
    try:
        with path.open("rb") as file:
            start = file.read(_SNIFF_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as error:
        raise InputError(f"cannot read the feed: {error.strerror}", where) from None
    if not start:
        raise InputError("the feed is empty", where)
    rows = _xml_items(path) if start.startswith(b"<") else _tsv_items(path)
    return _checked(rows)


def _checked(rows: Iterator[tuple[str, Mapping[str, str]]]) -> list[FeedItem | FeedProblem]:
    read: list[FeedItem | FeedProblem] = []
    first_seen: dict[str, str] = {}
    for where, values in rows:
        item_id = values.get("id", "")
        if not item_id:
            read.append(FeedProblem(where, "no id: Merchant Center needs one on every item"))
        elif len(item_id) > _ID_WIDTH:
            read.append(FeedProblem(where, f"id {item_id[:40]!r}… is longer than {_ID_WIDTH} characters"))
        elif (seen := first_seen.setdefault(item_id, where)) != where:
            read.append(FeedProblem(where, f"id {item_id!r} is also on {seen}"))
        else:
            read.append(FeedItem(where=where, **values))
    return read


def _attribute(name: str) -> str:
    """The attribute a header or element name stands for: "g:Image link" → image_link."""
    name = name.strip().casefold().removeprefix("g:")
    return "_".join(name.split())


# ---------------------------------------------------------------------------------- TSV


def _tsv_items(path: Path) -> Iterator[tuple[str, Mapping[str, str]]]:
    where = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file, delimiter="\t")
            header = [_attribute(cell) for cell in next(reader, [])]
            if "id" not in header:
                found = ", ".join(cell for cell in header if cell) or "nothing"
                raise InputError(
                    f"not a Merchant Center feed: no id column (found: {found}); "
                    "a TSV feed has a tab-separated header row",
                    where,
                )
            wanted = [(index, name) for index, name in enumerate(header) if name in _ATTRIBUTES]
            rows = []
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    values = {name: cells[index].strip() for index, name in wanted if index < len(cells)}
                    rows.append((f"line {line}", values))
                line = reader.line_num + 1
    except UnicodeDecodeError:
        raise InputError("the feed is not UTF-8 text", where) from None
    except csv.Error as error:
        raise InputError(f"not a readable TSV file: {error}", where) from None
    return iter(rows)


# ---------------------------------------------------------------------------------- XML


def _xml_items(path: Path) -> Iterator[tuple[str, Mapping[str, str]]]:
    """The items, read whole before the first is handed over (a file broken halfway is
    refused as a whole, never half audited)."""
    where = str(path)
    items: list[tuple[str, Mapping[str, str]]] = []
    try:
        with path.open("rb") as file:
            events = iterparse(file, events=("start", "end"), forbid_dtd=True)
            _, root = next(events)
            _check_root(root, where)
            for event, element in events:
                if event == "end" and _local(element.tag) in ("item", "entry"):
                    items.append((f"item {len(items) + 1}", _element_values(element)))
                    element.clear()  # a large feed is not kept whole in memory
    except ParseError as error:
        line, column = error.position
        raise InputError(f"not well-formed XML: {_reason(error)}", f"{where}:{line}:{column}") from None
    except DefusedXmlException as error:
        raise InputError(
            f"refused: the feed has {_DEFUSED.get(type(error).__name__, 'a forbidden XML construct')}; "
            "a feed needs none, and they are how XML expansion and external-entity attacks work",
            where,
        ) from None
    except OSError as error:
        raise InputError(f"cannot read the feed: {error.strerror}", where) from None
    return iter(items)


def _check_root(root: Element, where: str) -> None:
    if _local(root.tag) not in ("rss", "feed"):
        raise InputError(
            f"not a Merchant Center feed: the root element is <{_local(root.tag)}>, "
            "not an RSS 2.0 <rss> or an Atom <feed>",
            where,
        )


def _element_values(item: Element) -> dict[str, str]:
    google: dict[str, str] = {}
    plain: dict[str, str] = {}
    for child in item:
        name = _attribute(_local(child.tag))
        if name not in _ATTRIBUTES:
            continue
        namespace = child.tag[1:].partition("}")[0] if child.tag.startswith("{") else ""
        if namespace == GOOGLE_NS:
            google.setdefault(name, (child.text or "").strip())
        elif name in _PLAIN and namespace in ("", ATOM_NS):
            # an Atom <link> carries its address in href
            text = child.get("href", "") if name == "link" and namespace == ATOM_NS else child.text
            plain.setdefault(name, (text or "").strip())
    return plain | google


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _reason(error: ParseError) -> str:
    """expat's message without the position it appends (the position goes in ``where``)."""
    return str(error).split(": line ", 1)[0]
