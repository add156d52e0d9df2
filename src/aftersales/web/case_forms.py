"""A case-page form the desk could not act on comes back on the case page, never on a bare
error page: the typed text kept in its field, the reason in plain words beside it, what
changed when the case moved on meanwhile (409), and "send anyway" where the role may.

``Retry`` is what the page template reads (``retry.form`` names the form it belongs to);
``retry_for`` turns the errors a case form can meet into one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aftersales.domain.cases import CaseNotFound, InvalidTransition
from aftersales.domain.collisions import change_summary
from aftersales.domain.errors import AftersalesError, InputError
from aftersales.services.collisions import CaseChanged
from aftersales.services.desk import EvidenceNotFound
from aftersales.services.replies import ReplyRefused
from aftersales.web.errors import ApiError

# the case-page forms, as ``Retry.form`` names them
FORMS = frozenset({"reply", "note", "status", "evidence", "decision", "route"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """A case-page form sent back: its typed values, why, and what may be done now."""

    form: str  # one of FORMS
    status: int  # the page's HTTP status: 403, 404, 409 or 422
    problem: str  # one sentence a person reads, beside the form's field
    values: Mapping[str, str] = field(default_factory=dict)  # as typed
    checks: tuple[Mapping[str, str], ...] = ()  # the reply checks that failed
    may_force: bool = False  # "send anyway" is offered
    changes: tuple[Mapping[str, Any], ...] = ()  # what changed since the page was shown
    key: str = ""  # the evidence item the problem is about

    def value(self, name: str, form: str, default: str = "") -> str:
        """The field's typed value when this form came back, else ``default``."""
        return self.values.get(name, default) if self.form == form else default


def retry_for(form: str, values: Mapping[str, str], error: Exception) -> Retry:
    """The page's answer to an error from a case form; CaseNotFound and anything unexpected are
    raised again (a case that is not there has no page to come back to)."""
    if isinstance(error, CaseNotFound) or not isinstance(error, ApiError | AftersalesError):
        raise error
    if isinstance(error, ReplyRefused):
        checks = tuple({"check": p.check, "fix": p.fix, "sentence": p.sentence} for p in error.problems)
        problem = "Not sent: the reply fails its checks. Fix the text, or send it anyway."
        return Retry(form=form, values=values, status=422, problem=problem, checks=checks, may_force=True)
    if isinstance(error, CaseChanged):
        changes = tuple(dict(e) | {"summary": change_summary(e)} for e in error.changes)
        problem = (
            "Not sent: the case changed after you opened it. Read what changed, then send again "
            "if your text still fits."
        )
        return Retry(form=form, values=values, status=409, problem=problem, changes=changes, may_force=True)
    if isinstance(error, ApiError):
        status, problem = error.status, error.message
    elif isinstance(error, EvidenceNotFound):
        status, problem = 404, str(error)
    elif isinstance(error, InvalidTransition):
        status, problem = 409, str(error)
    else:
        status, problem = 422, error.problem if isinstance(error, InputError) else str(error)
    return Retry(
        form=form, values=values, status=status, problem=_sentence(problem), key=values.get("key", "")
    )


def _sentence(words: str) -> str:
    """A reason as the page says it: capitalised, ending in a full stop."""
    words = words.strip()
    if not words:
        return "That did not work."
    return words[0].upper() + words[1:] + ("" if words.endswith((".", "!", "?")) else ".")
