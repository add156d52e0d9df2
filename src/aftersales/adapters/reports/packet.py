"""The dispute evidence packet as JSON, as one standalone printable HTML page, and as a PDF.

HTML and PDF are drawn from the same sections (``packet_sections``), so they hold the same
things. The HTML page escapes every value, loads nothing and runs no script; the PDF is made
with fpdf2 (pure Python) in its built-in Helvetica, whose character set is Latin-1: other
characters are spelled in their nearest Latin form or shown as "?" (the JSON keeps them).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aftersales.domain.orders import Dispute, OrderFacts
from aftersales.domain.packet import FileRef, Packet, PacketMessage, buyer_name, shopify_evidence

if TYPE_CHECKING:
    from fpdf import FPDF

UTC_ZONE = ZoneInfo("UTC")
_When = Callable[[datetime | None], str]


# ---------------------------------------------------------------- JSON


def packet_to_dict(packet: Packet) -> dict[str, Any]:
    """The packet's JSON shape: every part, the checklist, and Shopify's evidence fields."""
    data = packet.data
    order = data.order
    return {
        "subject": data.subject,
        "built_at": packet.built_at.isoformat(),
        "reason": packet.reason or None,
        "dispute": _dispute_dict(packet.dispute) if packet.dispute else None,
        "disputes": [_dispute_dict(d) for d in data.disputes],
        "order": _order_dict(order) if order else None,
        "payment": {
            "financial_status": order.financial_status,
            "total": _money(order.order_value),
            "currency": order.currency,
        }
        if order
        else None,
        "refunds": [
            {"amount": _money(r.amount), "at": r.at.isoformat(), "reason": r.reason}
            for r in (order.refunds if order else ())
        ],
        "customer": {"email": data.customer_email, "name": buyer_name(packet)},
        "prior_orders": list(data.prior_orders),
        "fulfilment": {
            "carrier": order.carrier,
            "tracking_numbers": list(order.tracking_numbers),
            "fulfilled_at": _iso(order.fulfilled_at),
            "delivered_at": _iso(order.delivered_at),
            "destination": order.destination,
        }
        if order
        else None,
        "tracking": [
            {
                "status": s.status.value,
                "happened_at": s.happened_at.isoformat(),
                "location": s.location,
                "message": s.message,
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "event_id": s.event_id,
            }
            for s in data.tracking
        ],
        "cases": [
            {
                "id": c.id,
                "route": c.route,
                "status": c.status,
                "subject": c.subject,
                "opened_at": c.opened_at.isoformat(),
                "lead": c.lead,
            }
            for c in data.cases
        ],
        "conversation": [
            {
                "case_id": m.case_id,
                "direction": m.direction,
                "channel": m.channel,
                "author": m.author,
                "from": m.from_address,
                "subject": m.subject,
                "sent_at": m.sent_at.isoformat(),
                "body": m.body,
                "attachments": [a.filename for a in m.attachments],
                "is_dispute_notice": m.is_notice,
            }
            for m in data.messages
        ],
        "photos": [_file_dict(a) for a in packet.photos],
        "files": [_file_dict(a) for a in packet.files],
        "evidence_items": [
            {
                "case_id": e.case_id,
                "key": e.key,
                "label": e.label,
                "present": e.present,
                "source": e.source,
                "marked_by": e.marked_by,
                "marked_at": _iso(e.marked_at),
            }
            for e in data.evidence
        ],
        "decisions": [
            {
                "case_id": d.case_id,
                "decision": d.decision,
                "amount": d.amount,
                "by": d.by,
                "at": d.at.isoformat(),
            }
            for d in packet.decisions
        ],
        "policy": {
            "version": data.policy.label,
            "effective_at": _iso(data.policy.effective_at),
            "sha256": data.policy.sha256,
            "texts": dict(data.policy.texts),
        }
        if data.policy
        else None,
        "timeline": [{"at": e.at.isoformat(), "what": e.what, "source": e.source} for e in packet.timeline],
        "checklist": [
            {
                "part": i.part.value,
                "label": i.label,
                "shopify_fields": list(i.shopify_fields),
                "required": i.required,
                "present": i.present,
                "detail": i.detail,
                "to_do": i.to_do,
            }
            for i in packet.checklist
        ],
        "missing": [i.part.value for i in packet.missing],
        "shopify_evidence": shopify_evidence(packet),
    }


def packet_json(packet: Packet) -> str:
    return json.dumps(packet_to_dict(packet), indent=2, ensure_ascii=False)


def _dispute_dict(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.dispute_id,
        "kind": d.kind,
        "reason": d.reason,
        "network_reason_code": d.network_reason_code,
        "status": d.status,
        "amount": _money(d.amount),
        "currency": d.currency,
        "initiated_at": _iso(d.initiated_at),
        "evidence_due_by": _iso(d.evidence_due_by),
        "evidence_sent_on": _iso(d.evidence_sent_on),
        "finalized_on": _iso(d.finalized_on),
    }


def _order_dict(o: OrderFacts) -> dict[str, Any]:
    return {
        "number": o.number,
        "shopify_id": o.shopify_id,
        "placed_at": _iso(o.placed_at),
        "cancelled_at": _iso(o.cancelled_at),
        "policy_version": o.policy_version,
        "shipping_address": asdict(o.shipping_address) if o.shipping_address else None,
        "billing_address": asdict(o.billing_address) if o.billing_address else None,
        "lines": [
            {
                "sku": i.sku,
                "title": i.title,
                "variant": i.variant,
                "quantity": i.quantity,
                "price": _money(i.price),
                "gtin": i.gtin,
            }
            for i in o.items
        ],
    }


def _file_dict(a: FileRef) -> dict[str, Any]:
    return {
        "case_id": a.case_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "sent_at": a.sent_at.isoformat(),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _money(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


# ---------------------------------------------------------------- sections (HTML and PDF)


# The printed packet stays readable and quick to make however long the conversation: the
# first and the latest messages in full, the ones between counted; each text, file list and
# table cut to a length a reviewer reads. The JSON packet (packet_json) keeps everything.
FIRST_MESSAGES = 5
LATEST_MESSAGES = 20
MESSAGE_CHARS = 2_000
MAX_ROWS = 100


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the printed packet: a table (headers, rows), then free text."""

    title: str
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    text: tuple[str, ...] = field(default=())
    empty: str = "nothing held"


def packet_sections(packet: Packet, zone: ZoneInfo = UTC_ZONE) -> list[Section]:
    data = packet.data

    def when(moment: datetime | None) -> str:
        return _local(moment, zone)

    order = data.order
    checklist = tuple(
        (
            "present" if i.present else ("MISSING" if i.required else "missing (optional)"),
            i.label,
            ", ".join(i.shopify_fields),
            i.detail or i.to_do,
        )
        for i in packet.checklist
    )
    fields = tuple((name, _field_text(value)) for name, value in shopify_evidence(packet).items())
    return [
        Section("Checklist", ("state", "item", "Shopify field", "held / to do"), checklist),
        Section("Shopify dispute evidence fields", ("field", "value"), fields),
        Section(
            "Order, payment and refunds",
            ("", ""),
            _order_rows(order, buyer_name(packet), data.customer_email, when) if order else (),
            empty="no order stored",
        ),
        Section(
            "Tracking and delivery",
            ("when", "status", "where", "carrier / number", "message"),
            tuple(
                (
                    when(s.happened_at),
                    s.status.value,
                    s.location,
                    f"{s.carrier} {s.tracking_number}".strip(),
                    s.message,
                )
                for s in data.tracking
            ),
            text=(f"Delivery proof: {_detail(packet, 'delivery_proof')}",),
            empty="no carrier scans stored",
        ),
        # one block per message, not a table row: a long message must break across pages
        Section("Conversation", text=_conversation_blocks(data.messages, when), empty="no messages"),
        _capped(
            Section(
                "Photos and files",
                ("when", "case", "file", "type", "bytes", "sha256"),
                tuple(
                    (when(a.sent_at), str(a.case_id), a.filename, a.content_type, str(a.size), a.sha256[:16])
                    for a in (*packet.photos, *packet.files)
                ),
                empty="no photos or files",
            )
        ),
        Section(
            "Evidence items",
            ("case", "item", "state", "source", "marked"),
            tuple(
                (
                    str(e.case_id),
                    e.label,
                    "present" if e.present else "missing",
                    e.source,
                    f"{e.marked_by} {when(e.marked_at) if e.marked_at else ''}".strip(),
                )
                for e in data.evidence
            ),
        ),
        Section(
            "Refund and reship decisions",
            ("when", "case", "decision", "amount", "by"),
            tuple((when(d.at), str(d.case_id), d.decision, d.amount or "", d.by) for d in packet.decisions),
            empty="no decision recorded",
        ),
        _policy_section(packet, when),
        Section(
            "Cases",
            ("case", "route", "status", "opened", "lead", "subject"),
            tuple((str(c.id), c.route, c.status, when(c.opened_at), c.lead, c.subject) for c in data.cases),
            empty="no cases",
        ),
        _capped(
            Section(
                "Timeline",
                ("when", "source", "what"),
                tuple((when(e.at), e.source, e.what) for e in packet.timeline),
            )
        ),
    ]


def _conversation_blocks(messages: Sequence[PacketMessage], when: _When) -> tuple[str, ...]:
    """One block per message; past FIRST_MESSAGES + LATEST_MESSAGES, the middle is counted."""
    if len(messages) <= FIRST_MESSAGES + LATEST_MESSAGES:
        return tuple(_message_block(m, when) for m in messages)
    first, latest = messages[:FIRST_MESSAGES], messages[-LATEST_MESSAGES:]
    skipped = messages[FIRST_MESSAGES:-LATEST_MESSAGES]
    gap = (
        f"[{len(skipped):,} more messages, {when(skipped[0].sent_at)} to {when(skipped[-1].sent_at)}, "
        "are not printed here: the case page and the JSON packet hold them all]"
    )
    return (*(_message_block(m, when) for m in first), gap, *(_message_block(m, when) for m in latest))


def _capped(section: Section) -> Section:
    """At most MAX_ROWS rows: the first and the latest, with a row saying how many are left out."""
    rows = section.rows
    if len(rows) <= MAX_ROWS:
        return section
    half = MAX_ROWS // 2
    gap = ("", f"[{len(rows) - MAX_ROWS:,} more rows not printed]", *[""] * (len(section.headers) - 2))
    return replace(section, rows=(*rows[:half], gap, *rows[-half:]))


def _message_block(m: PacketMessage, when: _When) -> str:
    who = f"{m.author or m.from_address or 'unknown'} ({'shop notice' if m.is_notice else m.direction})"
    names = [a.filename for a in m.attachments[:20]]
    more = f" and {len(m.attachments) - 20} more" if len(m.attachments) > 20 else ""
    files = f"\nAttached: {', '.join(names)}{more}" if m.attachments else ""
    subject = f"\nSubject: {m.subject[:300]}" if m.subject else ""
    body = m.body if len(m.body) <= MESSAGE_CHARS else m.body[:MESSAGE_CHARS] + " [... cut: see the case]"
    return f"{when(m.sent_at)} · case {m.case_id} · {who}{subject}{files}\n\n{body}"


def _order_rows(order: OrderFacts, name: str, email: str, when: _When) -> tuple[tuple[str, str], ...]:
    lines = "; ".join(
        f"{i.quantity} x {i.title or i.sku} {i.variant} (SKU {i.sku}) {i.price}".strip() for i in order.items
    )
    refunds = "; ".join(f"{r.amount} on {when(r.at)} {r.reason}".strip() for r in order.refunds) or "none"
    return (
        ("order", f"#{order.number}" + (f" (Shopify id {order.shopify_id})" if order.shopify_id else "")),
        ("customer", f"{name} <{email}>" if email else "not linked"),
        ("placed", when(order.placed_at)),
        ("lines", lines or "none stored"),
        (
            "payment",
            f"{order.financial_status or 'status unknown'}, {order.order_value} {order.currency}".strip(),
        ),
        ("refunds", refunds),
        ("carrier", order.carrier or "-"),
        ("tracking numbers", ", ".join(order.tracking_numbers) or "-"),
        ("fulfilled", when(order.fulfilled_at)),
        ("delivered", when(order.delivered_at)),
        ("destination", order.destination or "-"),
        ("shipping address", str(order.shipping_address or "-")),
        ("billing address", str(order.billing_address or "-")),
        ("policy version", order.policy_version or "-"),
    )


def _policy_section(packet: Packet, when: _When) -> Section:
    policy = packet.data.policy
    if policy is None:
        return Section("Policy in force", empty="no policy version known for the order")
    head = f"Version {policy.label}" + (
        f", in force since {when(policy.effective_at)}" if policy.effective_at else ""
    )
    texts = tuple(f"{kind.title()} policy:\n{text}" for kind, text in policy.texts.items())
    digest = (f"SHA-256 {policy.sha256}",) if policy.sha256 else ()
    return Section("Policy in force", text=(head, *digest, *texts))


def _detail(packet: Packet, part: str) -> str:
    for item in packet.checklist:
        if item.part.value == part:
            return item.detail or f"missing. {item.to_do}"
    return "-"


def _field_text(value: Any) -> str:
    if value is None:
        return "- (fill in Shopify)"
    if isinstance(value, list):
        return "; ".join(_pairs(item) for item in value) or "-"
    if isinstance(value, dict):  # an address: Shopify's MailingAddressInput
        return _pairs(value) or "-"
    return str(value)


def _pairs(fields: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in fields.items() if v)


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


def _heading(packet: Packet, zone: ZoneInfo) -> list[str]:
    lines = [f"Built {_local(packet.built_at, zone)}"]
    d = packet.dispute
    if d is None:
        lines.append("No dispute on record: checked against the chargeback route's evidence list.")
    else:
        amount = f"{d.amount} {d.currency}".strip() if d.amount is not None else "amount not given"
        lines.append(
            f"Dispute {d.dispute_id}: {d.kind or 'dispute'}, reason {d.reason or 'not given'}, {amount}, "
            f"status {d.status or 'unknown'}; evidence due by {_local(d.evidence_due_by, zone)}"
        )
    missing = [i.label for i in packet.missing if i.required]
    lines.append("Still missing: " + ("; ".join(missing) if missing else "nothing the reason needs"))
    return lines


# ---------------------------------------------------------------- HTML

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:2rem auto;max-width:62rem;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}td{white-space:pre-wrap;overflow-wrap:anywhere}.MISSING{color:#a00;font-weight:bold}
.present{color:#060}p.meta{margin:.2rem 0;color:#333}pre{white-space:pre-wrap;font:inherit}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
""".strip()
# The page's only style, allowed by its hash: the web desk serves the packet with a policy
# that permits this style and nothing else (no scripts, no loads).
STYLE_CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    + "'; img-src 'none'; base-uri 'none'; form-action 'none'"
)
# sent as a header by the web desk, where it can also forbid framing (a <meta> policy cannot)
STYLE_CSP_HEADER = STYLE_CSP + "; frame-ancestors 'none'"


def packet_html(packet: Packet, zone: ZoneInfo = UTC_ZONE, store: str = "") -> str:
    e = html.escape
    title = f"Dispute evidence packet: {packet.data.subject}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(STYLE_CSP)}">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        *(f'<p class="meta">{e(line)}</p>' for line in ([store] if store else []) + _heading(packet, zone)),
    ]
    for section in packet_sections(packet, zone):
        parts.append(f"<section><h2>{e(section.title)}</h2>")
        if section.rows:
            parts.append(_html_table(section))
        elif not section.text:
            parts.append(f"<p>{e(section.empty)}</p>")
        parts += [f"<pre>{e(text)}</pre>" for text in section.text]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(section: Section) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in section.headers) if any(section.headers) else ""
    rows = []
    for row in section.rows:
        state = row[0] if section.title == "Checklist" else ""
        cells = "".join(
            f'<td class="{e(state.split(" ")[0])}">{e(cell)}</td>'
            if i == 0 and state
            else f"<td>{e(cell)}</td>"
            for i, cell in enumerate(row)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table>{f'<thead><tr>{head}</tr></thead>' if head else ''}<tbody>{''.join(rows)}</tbody></table>"


# ---------------------------------------------------------------- PDF

_LATIN = str.maketrans(
    {"→": "->", "←": "<-", "—": "-", "–": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "•": "*"}
)


def packet_pdf(packet: Packet, zone: ZoneInfo = UTC_ZONE, store: str = "") -> bytes:
    # imported here: fpdf2 (with Pillow) is 30 MB in every process that loads it, and only the
    # PDF needs it; `aftersales intake` and its workers never do
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin(f"Dispute evidence packet: {packet.data.subject}"))
    pdf.set_creator("aftersales")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    _line(pdf, f"Dispute evidence packet: {packet.data.subject}", height=8)
    pdf.set_font("Helvetica", "", 9)
    for line in ([store] if store else []) + _heading(packet, zone):
        _line(pdf, line)
    for section in packet_sections(packet, zone):
        _pdf_section(pdf, section)
    return bytes(pdf.output())


def _pdf_section(pdf: FPDF, section: Section) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    _line(pdf, section.title, height=7)
    pdf.set_font("Helvetica", "", 8)
    if section.rows:
        _pdf_table(pdf, section.headers, section.rows)
    elif not section.text:
        _line(pdf, section.empty)
    for text in section.text:
        _line(pdf, text)


def _pdf_table(pdf: FPDF, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with pdf.table(
        first_row_as_headings=any(headers),
        line_height=4,
        text_align="LEFT",
        col_widths=_widths(rows),
    ) as table:
        if any(headers):
            table.row([_latin(h) for h in headers])
        for row in rows:
            table.row([_latin(_fit(cell)) for cell in row])


_MAX_CELL_CHARS = 1500
_MAX_CELL_LINES = 30


def _fit(cell: str) -> str:
    """A table row cannot break across pages: a cell longer than a page's share is cut,
    saying so (the HTML and JSON hold it whole)."""
    lines = cell.splitlines()
    if len(cell) <= _MAX_CELL_CHARS and len(lines) <= _MAX_CELL_LINES:
        return cell
    return (
        "\n".join(lines[:_MAX_CELL_LINES])[:_MAX_CELL_CHARS]
        + " [... cut here; whole in the HTML/JSON packet]"
    )


def _widths(rows: Sequence[Sequence[str]]) -> tuple[int, ...]:
    """Columns as wide as their longest cell, within bounds, so short columns stay short."""
    columns = len(rows[0])
    longest = [max(min(len(row[i]), 60) for row in rows) + 4 for i in range(columns)]
    return tuple(max(6, width) for width in longest)


def _line(pdf: FPDF, text: str, height: float = 4.5) -> None:
    from fpdf.enums import XPos, YPos  # see packet_pdf

    pdf.multi_cell(0, height, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _latin(text: str) -> str:
    """Text Helvetica can draw: common symbols spelled out, accents kept (Latin-1), the rest "?"."""
    spelled = text.translate(_LATIN)
    if spelled.isascii():
        return spelled
    kept = "".join(c if ord(c) < 256 else unicodedata.normalize("NFKD", c)[0] for c in spelled)
    return kept.encode("latin-1", "replace").decode("latin-1")
