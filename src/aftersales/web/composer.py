"""The reply composer's saved replies: the API that fills them in for a case, and what the
case page needs to offer them (a select; without JavaScript, ``?saved_reply=NAME`` renders
the page again with that reply in the reply box)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from aftersales.services.saved_replies import saved_replies_for
from aftersales.web.context import WebDesk
from aftersales.web.security import ApiUser, CaseId, Web

router = APIRouter(prefix="/api", tags=["api"])


@router.get(
    "/cases/{case_id}/saved-replies",
    responses={401: {"description": "not signed in"}, 404: {"description": "no such case"}},
)
def saved_replies(case_id: CaseId, web: Web, user: ApiUser) -> dict[str, Any]:
    """The store's saved replies for the case's route, in the customer's language and the
    store's, filled in with the case's facts; ``missing`` names the variables it has no
    value for."""
    filled = saved_replies_for(web.desk.read, web.kit, case_id, now=web.now())
    return {"case_id": case_id, "saved_replies": [reply.as_dict() for reply in filled]}


def composer_context(web: WebDesk, case_id: int, draft: str, chosen: str) -> dict[str, Any]:
    """The case page's saved replies, and the reply box's text: the saved reply ``chosen``
    (by name) when one is, else ``draft``."""
    filled = saved_replies_for(web.desk.read, web.kit, case_id, now=web.now())
    context: dict[str, Any] = {"saved_replies": filled, "saved_reply": "", "saved_missing": ()}
    if not chosen:
        return context | {"draft": draft}
    picked = next((reply for reply in filled if reply.name.casefold() == chosen.casefold()), None)
    if picked is None:
        names = ", ".join(reply.name for reply in filled) or "none"
        problem = f"There is no saved reply {chosen!r} for this case; its saved replies: {names}."
        return context | {"draft": draft, "saved_problem": problem}
    return context | {"draft": picked.text, "saved_reply": picked.name, "saved_missing": picked.missing}
