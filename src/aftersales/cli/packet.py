"""`aftersales packet CASE_OR_ORDER`: the dispute evidence packet as JSON, HTML or PDF."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from aftersales.adapters.files.atomic import write_atomically
from aftersales.adapters.reports.packet import packet_html, packet_json, packet_pdf
from aftersales.domain.errors import InputError
from aftersales.domain.packet import Packet
from aftersales.services.packet import evidence_packet
from aftersales.settings import Settings
from aftersales.wiring import load_active_policy, open_desk, store_specs


@click.command()
@click.argument("reference", metavar="CASE_OR_ORDER")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "html", "pdf"]),
    default="json",
    show_default=True,
    help="JSON (fields mapped to Shopify's dispute evidence), a printable HTML page, or a PDF.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write to this file instead of standard output (a PDF needs one unless piped).",
)
@click.pass_obj
def packet(settings: Settings, reference: str, output_format: str, output: Path | None) -> None:
    """The dispute evidence packet of a case or an order.

    The order, payment and refunds, fulfilment and every carrier scan, delivery proof, the
    whole conversation of every case on the order, photos and evidence items, refund and
    reship decisions (who and when), the policy version in force and one timeline; with a
    checklist for the dispute's reason (or the chargeback route's list when there is no
    dispute) saying what is present and what to do about each missing item. The JSON's
    `shopify_evidence` holds Shopify's dispute evidence fields.

    CASE_OR_ORDER is a case id (42, case:42) or an order number (#1043, order:1043); a
    bare number names whichever exists.

    \b
    Examples:
      aftersales packet 1043
      aftersales packet case:42 --format html --output packet-42.html
      aftersales packet '#1043' --format pdf -o dispute-1043.pdf
    """
    desk = open_desk(settings)
    policy = load_active_policy(settings)
    reader = desk.packets
    built = evidence_packet(reader, reference, now=datetime.now(UTC), specs=store_specs(policy))
    content = _render(built, output_format, ZoneInfo(policy.time_zone), policy.store_name)
    if output is None:
        _to_stdout(content)
        return
    _write_whole(output, content)
    missing = [i.label for i in built.missing if i.required]
    click.echo(
        f"wrote {output} ({built.data.subject}); "
        + (f"still missing: {'; '.join(missing)}" if missing else "nothing the reason needs is missing"),
        err=True,
    )


def _render(built: Packet, output_format: str, zone: ZoneInfo, store: str) -> bytes:
    if output_format == "pdf":
        return packet_pdf(built, zone, store)
    if output_format == "html":
        return packet_html(built, zone, store).encode("utf-8")
    return (packet_json(built) + "\n").encode("utf-8")


def _to_stdout(content: bytes) -> None:
    if content.startswith(b"%PDF") and sys.stdout.isatty():
        raise InputError("a PDF is not for the terminal: give --output FILE or redirect it", "--format pdf")
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()


def _write_whole(path: Path, content: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written packet."""
    try:
        # an ordinary new file's permissions: the user chose where the packet goes
        write_atomically(path, content)
    except OSError as error:
        raise InputError(f"cannot write the packet: {error.strerror}", str(path)) from None
