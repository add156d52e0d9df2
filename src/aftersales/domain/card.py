"""The decision card: the seed's Routing Lab row plus the incident router's decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.decisions import Decision
from aftersales.domain.evidence import EvidenceChecklist
from aftersales.domain.policy import Lead
from aftersales.domain.reading import Reading
from aftersales.domain.replies import ReplyCheck
from aftersales.domain.routes import RouteSpec
from aftersales.domain.routing.router import Routing
from aftersales.domain.signals import FLAG_NAMES, Signal


@dataclass(frozen=True, slots=True)
class SlaDue:
    first_response_due: datetime
    next_update_due: datetime
    escalation_due: datetime
    resolution_due: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionCard:
    text: str
    routing: Routing
    spec: RouteSpec
    signals: tuple[Signal, ...]
    evidence: EvidenceChecklist
    decision: Decision
    first_reply: str
    reply_check: ReplyCheck
    lead: Lead | None
    sla: SlaDue
    received_at: datetime
    reading: Reading | None = None  # the reading the route follows (None: built by hand, local)
    reply_language: str = ""  # the language the first reply is drafted in
    reply_note: str = ""  # to the agent: the customer wrote in a language with no template

    @property
    def read_by(self) -> str:
        """Which reader's route the card follows: local, llm or local_fallback."""
        return self.reading.read_by if self.reading is not None else "local"

    @property
    def reader_note(self) -> str:
        """Why the reader read it so, or why the local reading stands."""
        return self.reading.note if self.reading is not None else ""

    @property
    def language(self) -> str:
        """ISO 639-1 of the message, "" when unknown."""
        return self.reading.language if self.reading is not None else ""

    @property
    def flags(self) -> dict[str, bool]:
        raised = {s.value for s in self.signals if s.kind == "flag"}
        return {name: name in raised for name in FLAG_NAMES}


def card_to_dict(card: DecisionCard) -> dict[str, Any]:
    """The card as plain JSON-ready data (the `--json` shape, documented in docs/cli.md)."""
    routing, spec, decision = card.routing, card.spec, card.decision
    return {
        "route": routing.route.value,
        "secondary_routes": [r.value for r in routing.secondary],
        "confidence": routing.confidence,
        "confidence_label": routing.confidence_label,
        "read_by": card.read_by,
        "reader_note": card.reader_note,
        "language": card.language,
        "flags": card.flags,
        "signals": [_signal(s, card.text) for s in card.signals],
        "evidence": {
            "required": [i.label for i in card.evidence.items],
            "present": [{"item": i.label, "source": i.source} for i in card.evidence.present],
            "missing": [i.label for i in card.evidence.missing],
            "suggested": [{"item": i.label, "suggestion": i.suggestion} for i in card.evidence.suggested],
        },
        "risky_route": spec.risky_route,
        "correct_route": spec.correct_route,
        "frontline_action": spec.frontline_action,
        "record_location": spec.record_location,
        "first_reply": card.first_reply,
        "reply_language": card.reply_language,
        "reply_note": card.reply_note,
        "reply_check": {
            "ok": card.reply_check.ok,
            "problems": [
                {"check": p.check, "sentence": p.sentence, "fix": p.fix} for p in card.reply_check.problems
            ],
        },
        "escalation_trigger": spec.escalation_trigger,
        "escalate": decision.escalate,
        "escalation_reason": decision.escalation_reason,
        "lead": _lead(spec.lead, card.lead),
        "write_back": list(spec.write_back),
        "sla": {name: _iso(getattr(card.sla, name)) for name in SlaDue.__slots__},
        "resolution_path": spec.resolution_path,
        "decision": {
            "segment": decision.segment,
            "action": decision.action,
            "stop_line_clear": decision.stop_line_clear,
            "facts": list(decision.facts),
        },
        "stop_line": decision.stop_line,
        "pause_automation": decision.pause_automation,
        "trace": {
            "decided_by": routing.decided_by,
            "scores": {r.value: round(s, 2) for r, s in routing.scores.items() if s},
            "matches": [
                {
                    "route": t.route.value,
                    "weight": t.weight,
                    "reason": t.reason,
                    "quote": t.quote,
                    "start": t.start,
                    "end": t.end,
                }
                for t in routing.trace
            ],
        },
    }


def _signal(signal: Signal, text: str) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": signal.kind, "value": signal.value}
    if signal.detail:
        data["detail"] = signal.detail
    if signal.start >= 0:
        data |= {"text": signal.quote(text), "start": signal.start, "end": signal.end}
    return data


def _lead(role: str, lead: Lead | None) -> Mapping[str, str]:
    if lead is None:
        return {"role": role, "name": "", "email": ""}
    return {"role": role, "name": lead.name, "email": lead.email}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")
