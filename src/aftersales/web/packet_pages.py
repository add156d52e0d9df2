"""The dispute evidence packet of a case, for signed-in users: ``GET /cases/{id}/packet``
(a standalone printable page), ``?format=pdf`` (a download) or ``?format=json``.

Making a PDF is seconds of CPU: it runs in a worker thread of its own, at most PDF_RENDERS at
once per server process, so the pages and the API keep their threads while PDFs are made. A
request that finds them all busy waits up to PDF_WAIT_SECONDS, then gets 503 with Retry-After.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from aftersales.adapters.reports.packet import STYLE_CSP_HEADER, packet_html, packet_json, packet_pdf
from aftersales.domain.packet import Packet
from aftersales.services.packet import evidence_packet
from aftersales.web.context import WebDesk
from aftersales.web.security import CaseId, PageUser, Web

router = APIRouter(include_in_schema=False)
PDF_RENDERS = 2  # PDFs made at once by one server process
PDF_WAIT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 15


@router.get("/cases/{case_id}/packet")
async def case_packet(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: PageUser,
    output: Annotated[Literal["html", "pdf", "json"], Query(alias="format")] = "html",
) -> Response:
    packet = await run_in_threadpool(_packet, web, case_id)
    zone, store = web.kit.calendar.tz, web.kit.policy.store_name
    # a packet holds the customer's words and address: never kept by a shared cache
    private = {"Cache-Control": "private, no-store"}
    if output == "pdf":
        pdf = await _render_pdf(request, packet, web)
        if pdf is None:
            busy = "Other dispute PDFs are being made: try again in a few seconds."
            headers = private | {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return PlainTextResponse(busy, status_code=503, headers=headers)
        name = f"dispute-packet-case-{case_id}.pdf"
        headers = private | {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(pdf, media_type="application/pdf", headers=headers)
    if output == "json":
        return Response(
            await run_in_threadpool(packet_json, packet), media_type="application/json", headers=private
        )
    # the page's own policy: its one inline style, by hash; no scripts, nothing loaded
    headers = private | {"Content-Security-Policy": STYLE_CSP_HEADER}
    return HTMLResponse(await run_in_threadpool(packet_html, packet, zone, store), headers=headers)


def _packet(web: WebDesk, case_id: int) -> Packet:
    return evidence_packet(web.desk.packets, f"case:{case_id}", now=web.now(), specs=web.kit.specs)


async def _render_pdf(request: Request, packet: Packet, web: WebDesk) -> bytes | None:
    """The packet's PDF, made in a PDF thread; None when none came free in time."""
    state = request.app.state
    if not hasattr(state, "pdf_turns"):
        # made on first use: anyio's primitives belong to the event loop that serves
        state.pdf_turns = anyio.Semaphore(PDF_RENDERS)
        state.pdf_threads = anyio.CapacityLimiter(PDF_RENDERS)
    turns: anyio.Semaphore = state.pdf_turns
    acquired = False
    with anyio.move_on_after(PDF_WAIT_SECONDS):
        await turns.acquire()
        acquired = True
    if not acquired:
        return None
    try:
        zone, store = web.kit.calendar.tz, web.kit.policy.store_name
        pdf: bytes = await anyio.to_thread.run_sync(
            packet_pdf, packet, zone, store, limiter=state.pdf_threads
        )
        return pdf
    finally:
        turns.release()
