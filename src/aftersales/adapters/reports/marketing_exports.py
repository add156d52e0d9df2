"""The export files for marketing and review tools: CSV and JSON, written whole or not at all.

- **Suppression CSV** (``email,reason,since``): a list any e-mail tool can import to leave
  these addresses out.
- **Open-case property feed**: one row per buyer (``email, has_open_case, open_cases, on_hold,
  hold_reason, updated_at, review_request_order, review_requested_at``). The CSV's first
  column is ``email``, which Klaviyo's list/profile CSV upload maps to the profile; the other
  columns become custom profile properties. The JSON is the body of Klaviyo's Bulk Import
  Profiles API (``POST /api/profile-bulk-import-jobs``, a ``profile-bulk-import-job`` whose
  profiles carry the same values under ``properties``). That API cannot clear a property
  with ``null``, so no value here is ever null: an empty reason is ``""``, a time never set
  is ``""``. It takes at most 10,000 profiles a job: ``klaviyo_jobs`` splits larger feeds.
- **Judge.me blocklist**: Judge.me has no blocklist file import; its "Don't send to these
  emails" field (Settings > Request scheduling > Manage blocklists) takes addresses separated
  by commas. The CSV is one ``email`` column (one address a line, easy to check and diff);
  the JSON adds ``field_value``, the addresses joined as that field wants them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from aftersales.domain.review_requests import BuyerState, ReleasedRequest, Suppression, deferred_days

KLAVIYO_JOB_LIMIT = 10_000  # profiles per Bulk Import Profiles job (Klaviyo's limit)
SUPPRESSION_COLUMNS = ("email", "reason", "since")
PROPERTY_COLUMNS = (
    "email",
    "has_open_case",
    "open_cases",
    "on_hold",
    "hold_reason",
    "updated_at",
    "review_request_order",
    "review_requested_at",
)
JUDGEME_COLUMNS = ("email",)
REQUEST_COLUMNS = ("email", "order_number", "delivered_at", "due_at", "sent_at", "deferred_days", "reasons")


def _time(moment: datetime | None) -> str:
    """UTC, ISO 8601 with a Z, to the second: what import tools parse as a date."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def suppression_csv(rows: Sequence[Suppression]) -> str:
    return _csv(SUPPRESSION_COLUMNS, ((r.email, r.reason, _time(r.since)) for r in rows))


def suppression_json(rows: Sequence[Suppression]) -> list[dict[str, str]]:
    return [{"email": r.email, "reason": r.reason, "since": _time(r.since)} for r in rows]


def buyer_properties(buyer: BuyerState) -> dict[str, Any]:
    """The feed's values for one buyer, never null (see the module's note on Klaviyo)."""
    return {
        "has_open_case": buyer.has_open_case,
        "open_cases": buyer.open_cases,
        "on_hold": buyer.on_hold,
        "hold_reason": buyer.hold_reason,
        "updated_at": _time(buyer.updated_at),
        "review_request_order": buyer.review_request_order,
        "review_requested_at": _time(buyer.review_requested_at),
    }


def open_cases_csv(buyers: Sequence[BuyerState]) -> str:
    def row(buyer: BuyerState) -> list[Any]:
        values = buyer_properties(buyer)
        return [buyer.email, *(_cell(values[c]) for c in PROPERTY_COLUMNS[1:])]

    return _csv(PROPERTY_COLUMNS, (row(b) for b in buyers))


def _cell(value: Any) -> Any:
    return ("true" if value else "false") if isinstance(value, bool) else value


def klaviyo_jobs(buyers: Sequence[BuyerState]) -> list[dict[str, Any]]:
    """Bodies for Klaviyo's Bulk Import Profiles API, 10,000 profiles each (one, when empty)."""
    chunks = [buyers[i : i + KLAVIYO_JOB_LIMIT] for i in range(0, len(buyers), KLAVIYO_JOB_LIMIT)] or [[]]
    return [_klaviyo_job(chunk) for chunk in chunks]


def _klaviyo_job(buyers: Sequence[BuyerState]) -> dict[str, Any]:
    profiles = [
        {"type": "profile", "attributes": {"email": b.email, "properties": buyer_properties(b)}}
        for b in buyers
    ]
    return {"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": profiles}}}}


def open_cases_json(buyers: Sequence[BuyerState]) -> dict[str, Any] | list[dict[str, Any]]:
    """One job body, or a list of them when the feed is longer than one job takes."""
    jobs = klaviyo_jobs(buyers)
    return jobs[0] if len(jobs) == 1 else jobs


def judgeme_csv(emails: Sequence[str]) -> str:
    return _csv(JUDGEME_COLUMNS, ([e] for e in emails))


def judgeme_json(emails: Sequence[str]) -> dict[str, Any]:
    return {"emails": list(emails), "field_value": ", ".join(emails)}


def review_requests_csv(rows: Sequence[ReleasedRequest]) -> str:
    return _csv(REQUEST_COLUMNS, (_request_row(r) for r in rows))


def _request_row(row: ReleasedRequest) -> list[Any]:
    request = row.request
    reasons = " | ".join(f"{e.action.value}: {e.reason}" for e in request.log)
    times = (request.delivered_at, request.due_at, request.sent_at)
    return [row.email, request.order_number, *map(_time, times), deferred_days(request), reasons]


def review_requests_json(rows: Sequence[ReleasedRequest]) -> list[dict[str, Any]]:
    return [
        {
            "email": r.email,
            "order_number": r.request.order_number,
            "delivered_at": _time(r.request.delivered_at),
            "due_at": _time(r.request.due_at),
            "sent_at": _time(r.request.sent_at),
            "deferred_days": deferred_days(r.request),
            "log": [{"at": _time(e.at), "action": e.action.value, "reason": e.reason} for e in r.request.log],
        }
        for r in rows
    ]


def as_json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
