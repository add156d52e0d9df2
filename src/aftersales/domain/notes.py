"""Copyable lesson notes: the seed's template, filled from a decision card, as Markdown."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftersales.domain.card import DecisionCard


def next_weekly_review(now: datetime) -> datetime:
    """The weekly review is on Monday: the next Monday after today."""
    return now + timedelta(days=7 - now.weekday())


def _when(moment: datetime) -> str:
    return f"{moment:%a %d %b %H:%M %Z}".strip()


def render_notes(card: DecisionCard) -> str:
    spec, decision, routing = card.spec, card.decision, card.routing
    raised = [name for name, on in card.flags.items() if on]
    present = "; ".join(f"{i.label} ({i.source})" for i in card.evidence.present) or "none yet"
    missing = "; ".join(i.label for i in card.evidence.missing) or "nothing"
    lead = f"{card.lead.name} ({spec.lead})" if card.lead else spec.lead
    secondary = ", ".join(r.value for r in routing.secondary) or "none"
    escalation = (
        decision.escalation_reason
        if decision.escalate
        else f"not yet; trigger: {spec.escalation_trigger.rstrip('.')}"
    )
    lines = [
        f"## Support notes: {spec.title}",
        "",
        f"- **Current pressure:** {routing.route.value} (also: {secondary}); flags: {', '.join(raised) or 'none'}; "
        f"confidence {routing.confidence_label.lower()} ({routing.confidence:.2f}).",
        f"- **First evidence:** in hand: {present}. Still missing: {missing}.",
        f"- **This-week action:** {decision.action} First response by {_when(card.sla.first_response_due)}; "
        f"next update by {_when(card.sla.next_update_due)}. Record: {spec.record_location}. "
        f"Responsible lead: {lead}. Escalation: {escalation}.",
        f"- **Stop action:** {decision.stop_line}"
        + (
            " Automation (review requests, marketing) is paused for this buyer."
            if decision.pause_automation
            else ""
        ),
        f"- **Review window:** weekly review on {next_weekly_review(card.received_at):%a %d %b}: "
        f"write back to {', '.join(spec.write_back)}; the same issue three times becomes an owned task.",
        f"- **Next route:** {spec.resolution_path}",
    ]
    return "\n".join(lines) + "\n"
