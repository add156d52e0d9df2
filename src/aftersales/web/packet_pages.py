"""The dispute evidence packet of a case, for signed-in users: ``GET /cases/{id}/packet``
(a standalone printable page), ``?format=pdf`` (a download) or ``?format=json``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from aftersales.adapters.db.packet_queries import packet_unit_of_work
from aftersales.adapters.packet_render import STYLE_CSP_HEADER, packet_html, packet_json, packet_pdf
from aftersales.services.packet import evidence_packet
from aftersales.web.security import CaseId, PageUser, Web

router = APIRouter(include_in_schema=False)


@router.get("/cases/{case_id}/packet")
def case_packet(
    case_id: CaseId,
    web: Web,
    user: PageUser,
    output: Annotated[Literal["html", "pdf", "json"], Query(alias="format")] = "html",
) -> Response:
    packet = evidence_packet(packet_unit_of_work(web.desk.engine), f"case:{case_id}", now=web.now())
    zone, store = web.kit.calendar.tz, web.kit.policy.store_name
    # a packet holds the customer's words and address: never kept by a shared cache
    private = {"Cache-Control": "private, no-store"}
    if output == "pdf":
        name = f"dispute-packet-case-{case_id}.pdf"
        headers = private | {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(packet_pdf(packet, zone, store), media_type="application/pdf", headers=headers)
    if output == "json":
        return Response(packet_json(packet), media_type="application/json", headers=private)
    # the page's own policy: its one inline style, by hash; no scripts, nothing loaded
    headers = private | {"Content-Security-Policy": STYLE_CSP_HEADER}
    return HTMLResponse(packet_html(packet, zone, store), headers=headers)
