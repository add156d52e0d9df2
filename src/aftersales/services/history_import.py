"""Import another tool's history: each conversation becomes a case marked as imported, with
its customer, order, messages, notes and timeline, closed or open as it was.

* **Idempotent** by (source, conversation id): a conversation imported before is not imported
  again. Its messages the desk does not hold yet (a later export of a conversation that went
  on) are added to its case; nothing else of the case changes (its status, route and
  assignee are the desk's now).
* **Routed** by the policy's ``[history.tag_routes]`` when one of its tags is mapped (and
  then kept as a labelled example the store's model learns from), else by the local router
  on its opening message; never by the language-model reader. ``route_check`` says it was
  imported and where its route came from.
* **History, not work**: its first-response and resolution hours are recorded, in business
  hours; the desk's clocks count nothing before the import (domain/history_import.py), so no
  breach is raised, no acknowledgement or review request is sent and nothing is queued.
* A chunk of conversations is one transaction: an import stopped half-way keeps the chunks
  it committed, and running it again carries on where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.errors import InputError
from aftersales.domain.history import BadRecord, HistoryConversation, HistoryDirection
from aftersales.domain.history_import import (
    HistoryAddition,
    HistoryCase,
    TagSuggestion,
    case_status,
    history_events,
    history_hours,
    is_since,
    message_key,
    opening_text,
    suggest_tag_routes,
    tag_route,
)
from aftersales.domain.routes import Route
from aftersales.ports import HistoryStore, HistoryUnitOfWork
from aftersales.services.clocks import CaseHistory, plan_refresh
from aftersales.services.routing import MAX_MESSAGE_CHARS, RoutingKit, route_text

CHUNK = 500  # conversations a transaction: a few statements each, whatever their messages


@dataclass(slots=True)
class HistorySummary:
    """What an import did (or, dry, would do)."""

    imported: int = 0  # conversations that became cases
    already: int = 0  # imported before, nothing new
    extended: int = 0  # imported before, new messages added
    older: int = 0  # left out by --since
    messages: int = 0  # customer messages and replies stored
    notes: int = 0  # internal notes stored
    labels: int = 0  # labelled examples (a tag named the route)
    bad: list[BadRecord] = field(default_factory=list)
    dry_run: bool = False

    @property
    def skipped(self) -> int:
        return len(self.bad)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "already_there": self.already,
            "extended": self.extended,
            "older_than_since": self.older,
            "skipped": self.skipped,
            "messages": self.messages,
            "notes": self.notes,
            "labels": self.labels,
            "dry_run": self.dry_run,
            "bad_records": [{"where": b.where, "problem": b.problem} for b in self.bad],
        }


Progress = Callable[[int], None]  # conversations read so far


def import_history(  # noqa: PLR0913  (keyword-only after the three things it works on)
    uow: HistoryUnitOfWork,
    kit: RoutingKit,
    records: Iterable[HistoryConversation | BadRecord],
    *,
    now: datetime,
    since: datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> HistorySummary:
    """Import every conversation of ``records`` (opened at or after ``since``); bad records
    are reported in the summary and skipped. ``dry_run`` reads and plans everything and
    writes nothing."""
    summary = HistorySummary(dry_run=dry_run)
    importer = _Importer(uow, kit, now, summary, dry_run=dry_run)
    pending: list[HistoryConversation] = []
    keys: set[tuple[str, str]] = set()
    read = 0
    for record in records:
        read += 1
        if isinstance(record, BadRecord):
            summary.bad.append(record)
            continue
        if not is_since(record, since):
            summary.older += 1
            continue
        key = (record.source.value, record.id)
        if key in keys:  # the same conversation twice in a chunk: the first goes in first
            importer.run(pending)
            pending, keys = [], set()
        pending.append(record)
        keys.add(key)
        if len(pending) >= chunk:
            importer.run(pending)
            pending, keys = [], set()
            if progress is not None:
                progress(read)
    importer.run(pending)
    if progress is not None:
        progress(read)
    return summary


class _Importer:
    def __init__(
        self,
        uow: HistoryUnitOfWork,
        kit: RoutingKit,
        now: datetime,
        summary: HistorySummary,
        *,
        dry_run: bool,
    ) -> None:
        self.uow, self.kit, self.now, self.summary, self.dry_run = uow, kit, now, summary, dry_run
        self._clocks: dict[tuple[Route, CaseStatus], dict[str, Any]] = {}
        # a dry run writes nothing, so it remembers what it would have imported
        self._dry_seen: set[tuple[str, str]] = set()

    def run(self, conversations: Sequence[HistoryConversation]) -> None:
        """Import a chunk: the conversations are routed outside any transaction (on SQLite a
        writer holds the one write lock, and routing 500 conversations takes a while), then
        looked up again and written in one."""
        if not conversations:
            return
        with self.uow() as store:
            before = self._known(store, conversations)
        planned = [self._plan(c) for c in conversations if _key(c) not in before]
        with self.uow() as store:
            known = self._known(store, conversations)  # another import may have stored some since
            planned = [p for p in planned if _key(p.conversation) not in known]
            again = [c for c in conversations if _key(c) in known]
            additions = self._additions(store, again, known)
            if not self.dry_run:
                store.store_cases(planned, self.now)
                store.add_history_messages(additions, self.now)
        if self.dry_run:
            self._dry_seen.update(_key(p.conversation) for p in planned)
        self._count(planned, again, additions)

    def _known(
        self, store: HistoryStore, conversations: Sequence[HistoryConversation]
    ) -> dict[tuple[str, str], int]:
        """The case of each conversation imported before (0: one this dry run would import)."""
        known: dict[tuple[str, str], int] = {}
        for source in sorted({c.source.value for c in conversations}):
            ids = [c.id for c in conversations if c.source.value == source]
            known |= {(source, i): case for i, case in store.imported_cases(source, ids).items()}
        known |= {_key(c): 0 for c in conversations if _key(c) in self._dry_seen}
        return known

    def _additions(
        self, store: HistoryStore, again: Sequence[HistoryConversation], known: dict[tuple[str, str], int]
    ) -> list[HistoryAddition]:
        keys = {message_key(c, m) for c in again for m in c.messages}
        stored = store.stored_message_keys(keys) if keys else set()
        additions = []
        for conversation in again:
            new = tuple(m for m in conversation.messages if message_key(conversation, m) not in stored)
            case_id = known[(conversation.source.value, conversation.id)]
            if new and case_id:
                additions.append(HistoryAddition(case_id=case_id, conversation=conversation, messages=new))
        return additions

    def _plan(self, conversation: HistoryConversation) -> HistoryCase:
        kit, source = self.kit, conversation.source.value
        text = opening_text(conversation)
        mapped = tag_route(conversation.tags, kit.policy.tag_routes)
        if mapped is not None:
            tag, route = mapped
            confidence, routed_by = 1.0, f"its tag {tag!r} ([history.tag_routes])"
        else:
            route, confidence = _routed(kit, text)
            routed_by = f"the local router (confidence {confidence:.2f})"
        status = case_status(conversation)
        hours = history_hours(conversation, kit.calendar)
        events = history_events(conversation, hours, routed_by, self.now)
        lead_role = kit.specs[route].lead
        lead = kit.policy.lead_for(lead_role)
        clocks = self._stopped_clocks(route, status, conversation, events)
        return HistoryCase(
            conversation=conversation,
            route=route,
            confidence=confidence,
            route_check=f"imported from {source}: routed by {routed_by}"[:200],
            lead_role=lead_role,
            lead_name=lead.name if lead else "",
            status=status,
            clocks=clocks["clocks"],
            risk=clocks["risk"],
            next_due_at=clocks["next_due_at"],
            next_check_at=clocks["next_check_at"],
            hours=hours,
            events=tuple(events),
            label=(text, f"{source} tag {mapped[0]}") if mapped is not None and text.strip() else None,
        )

    def _stopped_clocks(
        self, route: Route, status: CaseStatus, conversation: HistoryConversation, events: Sequence[Event]
    ) -> dict[str, Any]:
        """The clocks as the SLA tick computes them for the imported case: nothing before the
        import counts, so none runs, and the tick finds nothing to change. The same for every
        case of a route and status: computed once each."""
        key = (route, status)
        if key not in self._clocks:
            messages = [
                {"sent_at": m.at, "direction": _DIRECTION[m.direction], "promised_update_at": None}
                for m in conversation.messages
            ]
            rows = [{"kind": e.kind, "at": e.at, "actor": e.actor, "data": dict(e.data)} for e in events]
            history = CaseHistory(route, [], messages, rows, current={"status": status.value})
            self._clocks[key] = dict(plan_refresh(self.kit, history, self.now).fields)
        return self._clocks[key]

    def _count(
        self,
        planned: Sequence[HistoryCase],
        again: Sequence[HistoryConversation],
        additions: Sequence[HistoryAddition],
    ) -> None:
        summary = self.summary
        summary.imported += len(planned)
        summary.extended += len(additions)
        summary.already += len(again) - len(additions)
        summary.labels += sum(1 for p in planned if p.label is not None)
        said = [m for p in planned for m in p.conversation.messages] + [
            m for a in additions for m in a.messages
        ]
        summary.notes += sum(1 for m in said if m.direction is HistoryDirection.NOTE)
        summary.messages += sum(1 for m in said if m.direction is not HistoryDirection.NOTE)


def _key(conversation: HistoryConversation) -> tuple[str, str]:
    return (conversation.source.value, conversation.id)


_DIRECTION = {HistoryDirection.IN: "inbound", HistoryDirection.OUT: "outbound", HistoryDirection.NOTE: "note"}


def _routed(kit: RoutingKit, text: str) -> tuple[Route, float]:
    """The local router's route for the opening text (OTHER when there is no text)."""
    try:
        routing, _signals = route_text(kit, text[:MAX_MESSAGE_CHARS])
    except InputError:  # empty, or not text at all
        return Route.OTHER, 0.0
    return routing.route, routing.confidence


def tag_suggestions(
    kit: RoutingKit, records: Iterable[HistoryConversation | BadRecord], *, since: datetime | None = None
) -> tuple[list[TagSuggestion], HistorySummary]:
    """Each tag of the conversations by frequency, with the route the local router gives most
    of them; and what was read (bad records, left out by ``since``). Writes nothing."""
    summary = HistorySummary(dry_run=True)
    tagged: list[tuple[Sequence[str], Route]] = []
    for record in records:
        if isinstance(record, BadRecord):
            summary.bad.append(record)
        elif not is_since(record, since):
            summary.older += 1
        elif record.tags:
            tagged.append((record.tags, _routed(kit, opening_text(record))[0]))
    return suggest_tag_routes(tagged), summary
