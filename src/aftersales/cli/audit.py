"""`aftersales audit-feed`: a Merchant Center feed read against the Shopify products export,
each finding linked to the cases on its SKU, with a write-back task per finding."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from aftersales.adapters.files.merchant_feed import read_feed
from aftersales.adapters.files.packaged import read_packaged_text
from aftersales.adapters.shopify.products_csv import read_products
from aftersales.domain.feed_audit import OWNER_ROLES, FindingKind
from aftersales.services.feed_audit import AuditedFinding, AuditInputs, FeedAudit, audit_feed
from aftersales.settings import Settings
from aftersales.wiring import load_active_policy, open_desk

_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)
_KIND_ORDER = {kind: index for index, kind in enumerate(FindingKind)}
DEMO_PRODUCTS, DEMO_FEED = "demo_products.csv", "demo_feed.tsv"


@click.command("audit-feed")
@click.option(
    "--products", "products_file", type=_FILE, required=True, help="The Shopify products export (CSV)."
)
@click.option(
    "--feed", "feed_file", type=_FILE, required=True, help="The Merchant Center feed (TSV or RSS/Atom XML)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--no-tasks", is_flag=True, help="Link cases but file no write-back tasks.")
@click.pass_obj
def audit_feed_command(
    settings: Settings, *, products_file: Path, feed_file: Path, as_json: bool, no_tasks: bool
) -> None:
    """Audit a Google Merchant Center feed against the shop's products export.

    Flags GTINs with a bad check digit or a prefix Merchant Center refuses (restricted 02,
    04, 2; coupons 98, 99), missing GTINs where identifier_exists is not false, and prices,
    availability, colours, sizes and image links that differ from the shop. Feed items are
    matched to variants by SKU (the item's id or mpn), then GTIN, then item_group_id (the
    product handle) with colour and size. Each finding is linked to the cases on its SKU and
    gets one write-back task (a rerun refreshes it; --no-tasks files none).

    Exit status: 0 when the feed is clean, 1 when there are findings or bad rows, 2 when a
    file cannot be read.

    \b
    Example:
      aftersales audit-feed --products products_export.csv --feed feed.tsv
      aftersales audit-feed --products products_export.csv --feed feed.xml --json --no-tasks
    """
    feed = read_feed(feed_file)
    products = list(read_products(products_file))  # both read whole before anything is written
    desk = open_desk(settings)
    policy = load_active_policy(settings)
    report = audit_feed(
        AuditInputs(feed=feed, products=products),
        desk.feed_links,
        None if no_tasks else desk.tasks,
        policy,
        datetime.now(UTC),
    )
    if as_json:
        click.echo(json.dumps(report_to_dict(report, feed_file, products_file), indent=2, ensure_ascii=False))
    else:
        click.echo(_text(report, feed_file, products_file))
    sys.exit(0 if report.is_clean else 1)


def report_to_dict(report: FeedAudit, feed_file: Path, products_file: Path) -> dict[str, Any]:
    return {
        "feed": str(feed_file),
        "products": str(products_file),
        "items": report.items,
        "variants": report.variants,
        "clean": report.is_clean,
        "tasks_opened": report.tasks_opened,
        "findings": [_finding_dict(audited) for audited in _sorted(report.findings)],
        "problems": {
            "feed": [{"where": p.where, "reason": p.reason} for p in report.feed_problems],
            "products": [{"line": p.line, "reason": p.reason} for p in report.product_problems],
        },
    }


def _finding_dict(audited: AuditedFinding) -> dict[str, Any]:
    finding, rule = audited.finding, audited.finding.rule
    return {
        "kind": finding.kind.value,
        "severity": rule.severity.value,
        "diagnostic": rule.diagnostic,
        "target": rule.target.value,
        "owner_role": OWNER_ROLES[rule.target],
        "sku": finding.sku,
        "feed_id": finding.feed_id,
        "where": finding.where,
        "feed_value": finding.feed_value,
        "shop_value": finding.shop_value,
        "cases": [
            {
                "id": link.case.id,
                "route": link.case.route,
                "subject": link.case.subject,
                "open": link.case.is_open,
                "why": link.why,
            }
            for link in audited.cases
        ],
        "task": None if audited.task_id is None else {"id": audited.task_id, "new": audited.task_is_new},
    }


def _sorted(findings: tuple[AuditedFinding, ...]) -> list[AuditedFinding]:
    return sorted(findings, key=lambda audited: _KIND_ORDER[audited.finding.kind])


def _text(report: FeedAudit, feed_file: Path, products_file: Path) -> str:
    problems = len(report.feed_problems) + len(report.product_problems)
    lines = [
        f"{feed_file} against {products_file}: {report.items} items, {report.variants} variants; "
        f"{len(report.findings)} findings, {problems} bad rows, {report.tasks_opened} write-back tasks opened"
    ]
    kind = None
    for audited in _sorted(report.findings):
        finding, rule = audited.finding, audited.finding.rule
        if finding.kind is not kind:
            kind = finding.kind
            count = sum(1 for other in report.findings if other.finding.kind is kind)
            lines.append(
                f"\n{kind.value} ({count}): {rule.diagnostic} [{rule.severity.value}; {rule.target.value}]"
            )
        lines.append(
            f"  {finding.sku} ({finding.where}): feed {finding.feed_value or '-'}, shop {finding.shop_value or '-'}"
        )
        lines.extend(
            f"    case {link.case.id}: {link.case.subject or '(no subject)'} ({link.why})"
            for link in audited.cases
        )
        if audited.task_id is not None:
            lines.append(f"    task {audited.task_id}{' (new)' if audited.task_is_new else ''}")
    lines.extend(f"\nfeed {p.where}: {p.reason}" for p in report.feed_problems)
    lines.extend(f"\nproducts line {p.line}: {p.reason}" for p in report.product_problems)
    if report.is_clean:
        lines.append("the feed agrees with the shop")
    return "\n".join(lines)


def write_demo_files(folder: Path) -> tuple[Path, Path]:
    """The demo store's products export and Merchant Center feed (with planted defects),
    written to ``folder`` for `aftersales demo` to import and print: (products, feed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in (DEMO_PRODUCTS, DEMO_FEED):
        path = folder / name
        path.write_text(read_packaged_text(name), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]
