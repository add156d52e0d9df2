"""The queue: what needs a person now, in the order to do it.

A case's place is decided by three things, in this order:

1. **Whether anyone can act on it now.** Open cases come first; a case waiting on the
   customer, with nothing of ours running late, comes after them; resolved and closed cases
   last (listed only when asked for).
2. **The route's risk** (``routes.RISK_ORDER``): a chargeback threat before a wrong item,
   before a delay, ... before a question about a product. An address change that is late
   must not hide three chargeback threats.
3. **The SLA state, then the due time**: breached, at risk, on track; soonest due first.

The SLA state the queue shows is about the next move, not the case's history
(``urgency``): once we have answered, the clocks that still ask something of us are our
promised next update, an escalation and a dispute's evidence deadline, so a resolution
target missed before the answer no longer keeps the row red. While the case waits on the
customer only the clocks that never pause (escalation, dispute evidence) count; the others
pause, and one that broke before the wait began is history, shown on the case page.

The other order ("most overdue first") is the soonest due time first, whatever the route.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aftersales.domain.cases import OPEN_STATUSES, CaseStatus, SlaState, sla_state
from aftersales.domain.routes import Route, risk_rank
from aftersales.domain.sla.clocks import Clock, ClockName, ClockState

# Clocks that do not pause while the case waits on the customer (see sla/clocks.py).
NEVER_PAUSED = frozenset({ClockName.ESCALATION, ClockName.DISPUTE_EVIDENCE})
# Once we have answered, the next move we owe: the promised update, plus the clocks above.
OWED_AFTER_ANSWER = NEVER_PAUSED | {ClockName.NEXT_UPDATE}
PREVIEW_WIDTH = 160
MAX_SEARCH_WORDS = 8
# A search looks at the newest this many messages with its words: more than a queue page's
# worth of cases, few enough that sorting their cases into the queue's order stays short
# (adapters/db/search.py); the queue page says when a search reached it.
SEARCH_MESSAGE_CAP = 5_000
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class QueueOrder(StrEnum):
    RISK = "risk"  # who can act, route risk, SLA state, due time
    OVERDUE = "overdue"  # the soonest due time first


@dataclass(frozen=True, slots=True)
class Urgency:
    risk: int  # 2 a clock we owe is breached, 1 at risk, 0 otherwise
    next_due_at: datetime | None  # the soonest due time among those clocks


def urgency(clocks: Sequence[Clock], *, waiting: bool, answered: bool) -> Urgency:
    """How urgent the case is for the queue: only running clocks that ask something of us
    now count (see the module docstring); a clock that ended late is history."""
    if waiting:
        owed = [c for c in clocks if c.name in NEVER_PAUSED]
    elif answered:
        owed = [c for c in clocks if c.name in OWED_AFTER_ANSWER]
    else:
        owed = list(clocks)
    running = [c for c in owed if c.due_at is not None]
    states = {c.state for c in running}
    risk = 2 if ClockState.BREACHED in states else 1 if ClockState.AT_RISK in states else 0
    return Urgency(risk, min((c.due_at for c in running if c.due_at is not None), default=None))


def queue_position(route: Route, status: CaseStatus, risk: int) -> tuple[int, int, int]:
    """(who can act, route risk rank, SLA rank), each 0 first: the case's place before its
    due time breaks the tie. Waiting cases keep their route's order after the open ones."""
    state = sla_state(status, risk)
    stage = 2 if state is SlaState.CLOSED else 1 if state is SlaState.WAITING else 0
    return stage, risk_rank(route), 2 - min(max(risk, 0), 2)


def message_preview(text: str, width: int = PREVIEW_WIDTH) -> str:
    """The message on one line, cut at a word within ``width`` characters."""
    line = " ".join(text.split())
    if len(line) <= width:
        return line
    cut = line[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip(" ,.;:-") + "…"


def search_words(text: str) -> tuple[str, ...]:
    """The words of a search, lower case: letters and digits only, so no search syntax of
    either database can be typed in; at most ``MAX_SEARCH_WORDS``."""
    return tuple(word.lower() for word in _WORD.findall(text))[:MAX_SEARCH_WORDS]


def lead_matches(name: str, typed: str) -> bool:
    """The lead's name starts with ``typed``, or one of its words does, any case: "Priya",
    "priya s" and "SHAH" match Priya Shah; "riya" does not."""
    wanted = " ".join(typed.casefold().split())
    words = name.casefold().split()
    return bool(wanted) and any(" ".join(words[i:]).startswith(wanted) for i in range(len(words)))


def order_number_in(text: str) -> str:
    """The order number a search names ("1043", "#1043"), else ""."""
    term = text.strip().removeprefix("#").strip()
    return term if term and len(term) <= 64 and not any(c.isspace() for c in term) and "@" not in term else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueQuery:
    """One listing of the queue: which cases, in which order, how many."""

    statuses: frozenset[CaseStatus] = OPEN_STATUSES
    route: Route | None = None
    lead: str = ""  # a role, or the start of a word of the lead's name (``lead_matches``)
    breaching: bool = False  # only cases with a clock of ours at risk or breached
    assignee_id: int | None = None  # only this desk user's cases
    unassigned: bool = False  # only cases assigned to nobody
    search: str = ""  # a customer's name or e-mail, an order number, words of the messages
    order: QueueOrder = QueueOrder.RISK
    limit: int = 200
