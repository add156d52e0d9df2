"""Intake of a chunk of messages in a few statements, not ten round trips a message.

``IntakeBatch`` answers what intake asks of the repository for a chunk of messages from
lookups made once for the whole chunk (message keys already stored, the senders' customers,
the orders named, the cases the replies thread onto and the open cases of each sender and
order, with those cases' rows, message times, events, checklists and holds), and keeps what
intake writes in memory, in the order it was written, until ``flush`` sends it in one
statement per table. Intake itself (services/intake.py::receive) runs unchanged over it, one
message after another, each seeing what the messages before it wrote.

Why it stays right:

* Intake only ever opens cases or re-opens them; it never closes one. So a case open in the
  database is open for every message of the chunk, and any other open case is one this chunk
  opened or re-opened, which the batch holds. A question the chunk's lookups did not cover
  (a case's newest open case by order alone, say) is asked of the database and merged with
  what the batch holds.
* Cases opened here get provisional ids (-1, -2, ... in the order opened, newer than any
  stored case) and their stored ids at ``flush``, which returns the mapping.
* On PostgreSQL the chunk's customer rows are locked first, by an upsert that rewrites
  nothing, in the order of their addresses for every writer (so two writers cannot deadlock
  on them; new customers are numbered in that order, not in the order of their first mail):
  a second intake process taking mail of the same sender waits for the first to commit, then
  sees its cases and messages. Everything intake threads on (reply headers, case tags, the
  sender's open case on an order, duplicates) belongs to one customer. On SQLite the write
  lock already serialises writers, and customers are made in the order they wrote.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from aftersales.adapters.db import case_side
from aftersales.adapters.db import intake_statements as q
from aftersales.adapters.db import schema as t
from aftersales.adapters.db.case_records import case_record, evidence_row, message_row
from aftersales.adapters.db.queue import QUEUE_KEYS, queue_fields
from aftersales.adapters.db.widths import fitted
from aftersales.domain.cases import CaseRecord, Event
from aftersales.domain.evidence import EvidenceItem
from aftersales.domain.messages import AttachmentMeta, Direction, InboundMessage
from aftersales.domain.orders import OrderFacts
from aftersales.domain.queue import message_preview

if TYPE_CHECKING:
    from aftersales.adapters.db.repository import SqlCaseRepository

UNKNOWN_SENDER = "unknown@invalid"
_C, _M = t.cases, t.messages
_CASE_COLUMNS = tuple(column.name for column in _C.columns if column.name != "id")


def _new_case_row() -> dict[str, Any]:
    """A case row with every column's default, as the database would fill them in (a list
    or dict default made fresh for each row)."""
    row: dict[str, Any] = {}
    for name in _CASE_COLUMNS:
        default = _C.c[name].default
        row[name] = None
        if isinstance(default, ScalarElementColumnDefault):
            row[name] = default.arg
        elif isinstance(default, CallableColumnDefault):
            # SQLAlchemy wraps a default that takes no arguments (list, dict) in one taking
            # the execution context, which it does not use
            row[name] = default.arg(None)  # type: ignore[arg-type]
    return row


def newness(case_id: int) -> tuple[int, int]:
    """Sort key for "newest case": cases opened in the batch (provisional, negative ids, -1
    first) come after every stored case."""
    return (1, -case_id) if case_id < 0 else (0, case_id)


@dataclasses.dataclass(slots=True)
class _Case:
    """A case the batch knows: its row as the chunk has changed it, and what was changed."""

    row: dict[str, Any]
    new: bool
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    times: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    evidence: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    stored_evidence: set[str] = dataclasses.field(default_factory=set)
    changed_evidence: set[str] = dataclasses.field(default_factory=set)
    held: bool = False
    last: dict[str, Any] | None = None  # the chunk's last message for the queue's preview


class IntakeBatch:
    """The repository as intake sees it for one chunk of messages (see the module docstring)."""

    def __init__(
        self,
        repository: SqlCaseRepository,
        messages: Sequence[InboundMessage],
        order_numbers: Collection[str],
    ) -> None:
        self.repo = repository  # what the chunk's lookups did not cover is asked of it
        self.db: Connection = repository.db
        self._stored_keys: set[str] = set()
        self._asked_keys: set[str] = set()
        self._customers: dict[str, int] = {}
        self._orders: dict[str, OrderFacts] = {}
        self._buyers: dict[str, tuple[str, str]] = {}
        self._order_numbers: set[str] = set()
        self._threads: dict[str, tuple[int, int]] = {}  # message id -> (row id, case id)
        self._asked_threads: set[str] = set()
        self._open_pairs: set[tuple[int, str]] = set()
        self._cases: dict[int, _Case] = {}
        self._new_messages: list[dict[str, Any]] = []
        self._message_files: list[tuple[int, list[dict[str, Any]]]] = []  # message index, files
        self._new_keys: set[str] = set()
        self._new_events: list[dict[str, Any]] = []
        self._new_evidence: list[tuple[int, str]] = []  # (case, key) in the order added
        self._new_holds: list[dict[str, Any]] = []
        self._screened: list[dict[str, Any]] = []
        self._opened: list[int] = []
        self._look_up(messages, order_numbers)

    # ---------------------------------------------------------------- the chunk's lookups
    def _look_up(self, messages: Sequence[InboundMessage], order_numbers: Collection[str]) -> None:
        # the senders first: on PostgreSQL, a writer taking in the same senders' mail waits
        # here until it has committed, and every lookup after this sees what it wrote
        senders = _first_senders(messages)
        if senders:
            self._customers = self._lock_customers(senders)
        keys = sorted({m.dedupe_key for m in messages if m.auto_kind is None})
        self._asked_keys = set(keys)
        if keys:
            self._stored_keys = set(self.db.execute(q.STORED_KEYS, {"keys": keys}).scalars())
        numbers = sorted({n for n in order_numbers if n} | {m.order_hint for m in messages if m.order_hint})
        self._order_numbers = set(numbers)
        if numbers:
            self._orders = self.repo.orders(numbers)
            if self._orders:
                found = self.db.execute(q.BUYERS, {"numbers": list(self._orders)})
                self._buyers = {row.number: (row.email, row.name) for row in found}
        candidates = self._thread_cases(messages) | self._open_cases(numbers)
        candidates |= {int(m.case_hint) for m in messages if m.case_hint.isdigit()}
        if candidates:
            self._load_cases(sorted(candidates))

    def _lock_customers(self, senders: Mapping[str, tuple[str, datetime]]) -> dict[str, int]:
        """The senders' customer ids, made when new; on PostgreSQL their rows locked, in the
        order of their addresses (every writer takes them in that order)."""
        emails = sorted(senders)
        if self.db.dialect.name == "postgresql":
            columns = {
                "emails": emails,
                "names": [senders[e][0] for e in emails],
                "ats": [q.MOMENT.process_bind_param(senders[e][1], self.db.dialect) for e in emails],
            }
            return {row.email: int(row.id) for row in self.db.execute(q.LOCK_CUSTOMERS, columns)}
        found = {row.email: int(row.id) for row in self.db.execute(q.CUSTOMERS, {"emails": emails})}
        missing = [e for e in senders if e not in found]  # made in the order they wrote
        if missing:
            rows = [{"email": e, "name": senders[e][0], "created_at": senders[e][1]} for e in missing]
            self.db.execute(q.ADD_CUSTOMERS, rows)
            found |= {row.email: int(row.id) for row in self.db.execute(q.CUSTOMERS, {"emails": missing})}
        return found

    def _thread_cases(self, messages: Sequence[InboundMessage]) -> set[int]:
        ids = sorted({i for m in messages for i in (m.in_reply_to, *m.references) if i})
        self._asked_threads = set(ids)
        if not ids:
            return set()
        for row in self.db.execute(q.THREADS, {"ids": ids}):
            known = self._threads.get(row.message_id)
            if known is None or row.id > known[0]:
                self._threads[row.message_id] = (row.id, row.case_id)
        return {case_id for _, case_id in self._threads.values()}

    def _open_cases(self, numbers: Sequence[str]) -> set[int]:
        customers = sorted(set(self._customers.values()))
        self._open_pairs = {(c, n) for c in customers for n in numbers}
        if not customers or not numbers:
            return set()
        found = self.db.execute(q.OPEN_OF, {"customers": customers, "orders": list(numbers)})
        return {row.id for row in found}

    def _load_cases(self, ids: list[int]) -> None:
        known = []
        for row in self.db.execute(q.CASE_ROWS, {"ids": ids}).mappings():
            values = dict(row)
            held = bool(values.pop("held_"))
            self._cases[row["id"]] = _Case(values, new=False, held=held)
            known.append(row["id"])
        if not known:
            return
        for row in self.db.execute(q.TIMES, {"ids": known}).mappings():
            self._cases[row["case_id"]].times.append(
                {k: row[k] for k in ("sent_at", "direction", "promised_update_at")}
            )
        for row in self.db.execute(q.EVENTS, {"ids": known}).mappings():
            self._cases[row["case_id"]].events.append(dict(row))
        for row in self.db.execute(q.EVIDENCE, {"ids": known}).mappings():
            case = self._cases[row["case_id"]]
            case.evidence[row["key"]] = dict(row)
            case.stored_evidence.add(row["key"])

    # ---------------------------------------------------------------- lookups intake makes
    def has_message(self, dedupe_key: str) -> bool:
        if dedupe_key in self._new_keys or dedupe_key in self._stored_keys:
            return True
        return dedupe_key not in self._asked_keys and self.repo.has_message(dedupe_key)

    def customer_id(self, email: str, name: str, at: datetime) -> int:
        key = email.lower() or UNKNOWN_SENDER
        if key not in self._customers:
            self._customers[key] = self.repo.customer_id(email, name, at)
        return self._customers[key]

    def order(self, number: str) -> OrderFacts | None:
        if number in self._order_numbers:
            return self._orders.get(number)
        found: OrderFacts | None = self.repo.order(number)
        return found

    def order_customer(self, number: str) -> tuple[str, str] | None:
        if number in self._order_numbers:
            return self._buyers.get(number)
        found: tuple[str, str] | None = self.repo.order_customer(number)
        return found

    def case_exists(self, case_id: int) -> bool:
        return case_id in self._cases or bool(self.repo.case_exists(case_id))

    def case_row(self, case_id: int) -> CaseRecord:
        return case_record(self._case(case_id).row)

    def case_for_message_ids(self, message_ids: Sequence[str]) -> int | None:
        ids = {m for m in message_ids if m}
        if not ids:
            return None
        for row in reversed(self._new_messages):  # the newest message wins: the chunk's are
            if row["message_id"] in ids:
                return int(row["case_id"])
        if not ids <= self._asked_threads:
            return self.repo.case_for_message_ids(sorted(ids))
        found = [self._threads[i] for i in ids if i in self._threads]
        return max(found)[1] if found else None

    def open_case_for(self, customer_id: int, order_number: str) -> int | None:
        return self._newest_open(
            lambda row: row["customer_id"] == customer_id and row["order_number"] == order_number,
            None
            if (customer_id, order_number) in self._open_pairs
            else self.repo.open_case_for(customer_id, order_number),
        )

    def newest_open_case(self, *, customer_id: int | None = None, order_number: str = "") -> int | None:
        def matches(row: Mapping[str, Any]) -> bool:
            return (customer_id is None or row["customer_id"] == customer_id) and (
                not order_number or row["order_number"] == order_number
            )

        stored = self.repo.newest_open_case(customer_id=customer_id, order_number=order_number)
        return self._newest_open(matches, stored)

    def _newest_open(self, matches: Callable[[Mapping[str, Any]], bool], stored: int | None) -> int | None:
        found = [i for i, case in self._cases.items() if case.row["status"] in q.OPEN and matches(case.row)]
        if stored is not None:
            found.append(int(stored))
        return max(found, key=newness) if found else None

    def message_times(self, case_id: int) -> list[Mapping[str, Any]]:
        return sorted(self._case(case_id).times, key=lambda m: m["sent_at"])

    def timeline(self, case_id: int) -> list[Mapping[str, Any]]:
        return sorted(self._case(case_id).events, key=lambda e: e["at"])

    def evidence_of(self, case_id: int) -> list[Mapping[str, Any]]:
        return list(self._case(case_id).evidence.values())

    def _case(self, case_id: int) -> _Case:
        if case_id not in self._cases:
            self._load_cases([case_id])
        if case_id not in self._cases:
            self.repo.case_row(case_id)  # raises CaseNotFound
        return self._cases[case_id]

    # ---------------------------------------------------------------- writes, kept until flush
    def save_attachment(self, meta: AttachmentMeta, content: bytes) -> str:
        return str(self.repo.save_attachment(meta, content))

    def screen(self, message: InboundMessage, source: str, at: datetime) -> bool:
        values = {
            "dedupe_key": message.dedupe_key,
            "kind": message.auto_kind.value if message.auto_kind else "",
            "source": source[:500],
            "from_address": message.from_address,
            "subject": message.subject[:998],
            "received_at": at,
        }
        fresh = all(row["dedupe_key"] != message.dedupe_key for row in self._screened)
        self._screened.append(values)
        return fresh

    def open_case(self, fields: Mapping[str, Any]) -> int:
        case_id = -(len(self._opened) + 1)
        self._opened.append(case_id)
        row = _new_case_row() | fitted(fields)
        email = next((e for e, c in self._customers.items() if c == row["customer_id"]), None)
        self._cases[case_id] = _Case(
            row | {"id": case_id, "customer": email, "assignee_email": None, "assignee_name": None}, new=True
        )
        return case_id

    def update_case(
        self, case_id: int, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> None:
        case = self._case(case_id)
        fields = fitted(fields)
        case.row.update(fields)
        case.changes.update(fields)

    def add_message(
        self,
        case_id: int,
        message: InboundMessage,
        direction: Direction,
        promised_update_at: datetime | None = None,
    ) -> int:
        case = self._case(case_id)
        values = message_row(case_id, message, direction, promised_update_at)
        self._new_messages.append(values)
        self._new_keys.add(message.dedupe_key)
        case.times.append(
            {
                "sent_at": message.sent_at,
                "direction": direction.value,
                "promised_update_at": promised_update_at,
            }
        )
        if message.attachments:
            by = message.from_name or message.from_address
            files = case_side.message_file_rows(case_id, message.attachments, by, message.sent_at)
            self._message_files.append((len(self._new_messages) - 1, files))
        if case.last is None or case.last["sent_at_"] <= message.sent_at:
            case.last = {
                "preview_": message_preview(message.body)[:200],
                "direction_": direction.value,
                "sent_at_": message.sent_at,
            }
        return -len(self._new_messages)

    def add_events(self, case_id: int, events: Sequence[Event]) -> None:
        case = self._case(case_id)
        for event in events:
            row = {"case_id": case_id, "kind": event.kind, "at": event.at, "actor": event.actor}
            row["data"] = dict(event.data)
            case.events.append(row)
            self._new_events.append(row)

    def add_evidence(self, case_id: int, items: Sequence[EvidenceItem], by: str, at: datetime) -> None:
        case = self._case(case_id)
        for item in items:
            case.evidence[item.key] = evidence_row(case_id, item, by, at) | {"key": item.key}
            self._new_evidence.append((case_id, item.key))

    def set_evidence(
        self,
        case_id: int,
        items: Sequence[EvidenceItem],
        by: str,
        at: datetime,
        *,
        keep_present: bool = False,
    ) -> None:
        case = self._case(case_id)
        for item in items:
            stored = case.evidence.get(item.key)
            if keep_present and stored is not None and stored["present"]:
                continue
            if stored is None:
                self._new_evidence.append((case_id, item.key))
                case.evidence[item.key] = {"case_id": case_id, "key": item.key}
            case.evidence[item.key].update(evidence_row(case_id, item, by, at))
            if item.key in case.stored_evidence:
                case.changed_evidence.add(item.key)

    def hold_automation(self, customer_id: int, case_id: int, reason: str, since: datetime) -> None:
        case = self._case(case_id)
        if not case.held:
            case.held = True
            self._new_holds.append(
                {"customer_id": customer_id, "case_id": case_id, "reason": reason, "since": since}
            )

    # ---------------------------------------------------------------- flush
    def flush(self) -> dict[int, int]:
        """Write what the chunk took in, a statement per table; the stored id of each case
        opened in the batch, by its provisional id."""
        ids = self._insert_cases()

        def real(case_id: int) -> int:
            return ids.get(case_id, case_id)

        self._insert_messages(real)
        self._insert(t.events, [_with_ids(row, real) for row in self._new_events])
        self._write_evidence(real)
        self._insert(t.automation_holds, [row | {"case_id": real(row["case_id"])} for row in self._new_holds])
        self._update_cases(real)
        if self._screened:
            self.db.execute(q.SCREEN[self.db.dialect.name], self._screened)
        return ids

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.db.execute(insert(table), rows)

    def _insert_cases(self) -> dict[int, int]:
        if not self._opened:
            return {}
        rows = []
        for case_id in self._opened:
            case = self._cases[case_id]
            row = {k: case.row[k] for k in _CASE_COLUMNS}
            if case.last is not None:
                row |= {
                    "last_message_preview": case.last["preview_"],
                    "last_message_direction": case.last["direction_"],
                    "last_message_at": case.last["sent_at_"],
                }
            related = row["related_case_id"]
            row["related_case_id"] = related if related is None or related > 0 else None
            rows.append(row | queue_fields(row, row))
        made = q.insert_cases(self.db, rows)
        ids = dict(zip(self._opened, made, strict=True))
        # a case linked to one opened earlier in the chunk: its link, now that both have ids
        links = [
            {"case_id_": ids[c], "related_case_id": ids[self._cases[c].row["related_case_id"]]}
            for c in self._opened
            if (self._cases[c].row["related_case_id"] or 0) < 0
        ]
        if links:
            self.db.execute(q.UPDATE_CASE, links)
        return ids

    def _insert_messages(self, real: Callable[[int], int]) -> None:
        if not self._new_messages:
            return
        self.db.execute(insert(_M), [row | {"case_id": real(row["case_id"])} for row in self._new_messages])
        files = [
            {k: v for k, v in file.items() if k != "message_id"}
            | {"case_id": real(file["case_id"]), "dedupe_key_": self._new_messages[index]["dedupe_key"]}
            for index, rows_of in self._message_files
            for file in rows_of
        ]
        if files:
            self.db.execute(q.ADD_MESSAGE_FILES, files)

    def _write_evidence(self, real: Callable[[int], int]) -> None:
        added = [
            self._cases[case_id].evidence[key] | {"case_id": real(case_id)}
            for case_id, key in self._new_evidence
        ]
        self._insert(t.evidence_items, [_evidence_insert(row) for row in added])
        changed = [
            _evidence_update(case.evidence[key]) | {"case_id_": case_id, "key_": key}
            for case_id, case in self._cases.items()
            if not case.new
            for key in sorted(case.changed_evidence)
        ]
        if changed:
            self.db.execute(q.UPDATE_EVIDENCE, changed)

    def _update_cases(self, real: Callable[[int], int]) -> None:
        by_columns: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        last = []
        for case_id, case in self._cases.items():
            if case.new:
                continue
            if case.changes:
                fields = dict(case.changes)
                if QUEUE_KEYS & fields.keys():
                    fields |= queue_fields(fields, case.row)
                by_columns[frozenset(fields)].append(fields | {"case_id_": case_id})
            if case.last is not None:
                last.append(case.last | {"case_id_": case_id})
        for rows in by_columns.values():
            self.db.execute(q.UPDATE_CASE, rows)
        if last:
            self.db.execute(q.LAST_MESSAGE, last)


def _first_senders(messages: Iterable[InboundMessage]) -> dict[str, tuple[str, datetime]]:
    """Each address a customer is looked up for (not screened mail's), with the name and time
    of its first message: a new customer is made from that one. (A message already stored,
    taken in again, is a duplicate and looks up no customer; but its sender's exists.)"""
    senders: dict[str, tuple[str, datetime]] = {}
    for message in messages:
        if message.auto_kind is None:
            address = message.from_address.lower() or UNKNOWN_SENDER
            senders.setdefault(address, (message.from_name, message.sent_at))
    return senders


_EVIDENCE_COLUMNS = ("case_id", "key", "label", "present", "source", "marked_by", "marked_at")


def _evidence_insert(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _EVIDENCE_COLUMNS}


def _evidence_update(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("label", "present", "source", "marked_by", "marked_at")}


def _with_ids(row: Mapping[str, Any], real: Callable[[int], int]) -> dict[str, Any]:
    """An event row with stored case ids: its own, and a linked case's in its data."""
    data = row["data"]
    if isinstance(data.get("related_case_id"), int):
        data = data | {"related_case_id": real(data["related_case_id"])}
    return {**row, "case_id": real(row["case_id"]), "data": data}
