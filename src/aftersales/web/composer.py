"""The reply composer's saved replies on the case page: a select listing them; without
JavaScript, ``?saved_reply=NAME`` renders the page again with that reply in the reply box
(``GET /api/cases/{id}/saved-replies``, in api.py, gives app.js the same filled texts)."""

from __future__ import annotations

from typing import Any

from aftersales.services.saved_replies import saved_replies_for
from aftersales.web.context import WebDesk


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
