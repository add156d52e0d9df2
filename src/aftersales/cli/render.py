"""The readable decision card printed by `aftersales route`."""

from __future__ import annotations

import textwrap

import click

from aftersales.domain.card import DecisionCard
from aftersales.domain.routing.router import Routing
from aftersales.services.routing import format_moment


def _wrap(label: str, text: str) -> list[str]:
    body = textwrap.wrap(text, width=88, initial_indent="", subsequent_indent=" " * 20) or [""]
    return [f"{label:<19} {body[0]}", *body[1:]]


def _unsure_reason(routing: Routing) -> str:
    return "; ".join(routing.doubts) or "no route's words are clear enough"


def render_card(card: DecisionCard) -> str:
    routing, spec, decision = card.routing, card.spec, card.decision
    secondary = ", ".join(r.value for r in routing.secondary) or "none"
    raised = ", ".join(name for name, on in card.flags.items() if on) or "none"
    lead = f"{card.lead.name} <{card.lead.email}> ({spec.lead})" if card.lead else spec.lead
    lines = [
        click.style(f"ROUTE  {routing.route.value}", bold=True)
        + f"   confidence {routing.confidence_label} ({routing.confidence:.2f})   also: {secondary}",
        *_wrap("why", routing.decided_by + "; " + _quotes(card)),
        *(_wrap("check the route", _unsure_reason(routing)) if routing.unsure else []),
        *_wrap("flags", raised),
        *_wrap("correct route", spec.correct_route),
        *_wrap("risky route", "Don't: " + spec.risky_route),
        "",
        "EVIDENCE",
        *[f"  [x] {i.label}  ({i.source})" for i in card.evidence.present],
        *[f"  [?] {i.label}  ({i.suggestion})" for i in card.evidence.suggested],
        *[f"  [ ] {i.label}" for i in card.evidence.missing if not i.suggestion],
        "",
        "DECISION",
        *_wrap("  safe path", decision.action),
        *_wrap("  stop line", decision.stop_line),
        *[line for fact in decision.facts for line in _wrap("  fact", fact)],
        *_wrap("  resolution path", spec.resolution_path),
        *_wrap(
            "  escalate",
            decision.escalation_reason
            if decision.escalate
            else f"not now (trigger: {spec.escalation_trigger})",
        ),
        *_wrap("  lead", lead),
        *_wrap("  automation", "paused for this buyer" if decision.pause_automation else "unchanged"),
        *_wrap("  write back", ", ".join(spec.write_back)),
        *_wrap("  record", spec.record_location),
        "",
        "CLOCKS (business hours)",
        f"  first response by  {format_moment(card.sla.first_response_due)}",
        f"  next update by     {format_moment(card.sla.next_update_due)}",
        f"  escalation by      {format_moment(card.sla.escalation_due)}",
        "",
        "FIRST REPLY" + ("" if card.reply_check.ok else click.style("  (check failed)", fg="red")),
        textwrap.indent(card.first_reply, "  | "),
        *[f"  ! {p.check}: {p.fix}" for p in card.reply_check.problems],
        *([f"  note: {card.reply_note}"] if card.reply_note else []),
    ]
    return "\n".join(lines)


def _quotes(card: DecisionCard) -> str:
    quotes = list(dict.fromkeys(f"{t.quote!r} -> {t.route.value}" for t in card.routing.trace if t.quote))[:4]
    models = [t.evidence for t in card.routing.trace if t.reason == "model"]
    return "; ".join(quotes + models) or "no cue words"
