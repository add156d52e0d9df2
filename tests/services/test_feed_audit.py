"""The feed audit on the demo store's week, on both databases: the demo files give exactly
the planted defects, each linked to its cases and filed as one write-back task; a rerun files
no new task, and a defect whose task was closed opens a new one."""

from __future__ import annotations

import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine

import aftersales
from aftersales.adapters.db import schema
from aftersales.adapters.db.feed_links import feed_links_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.writeback_tasks import tasks_unit_of_work
from aftersales.adapters.files.merchant_feed import read_feed
from aftersales.adapters.files.order_json import parse_order
from aftersales.adapters.shopify.products_csv import read_products
from aftersales.domain.writeback import Target, TaskSource
from aftersales.services.feed_audit import AuditInputs, FeedAudit, audit_feed
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from support.messages import NY, message

DATA = Path(aftersales.__file__).parent / "data"
NOW = datetime(2026, 11, 27, 17, 0, tzinfo=NY)
_DAY_FIELDS = ("placed", "fulfilled", "delivered", "last_scan")

# (kind, SKU) -> subjects of the cases the finding must link
PLANTED = {
    ("color_mismatch", "TMB-20-BLK"): {"Wrong colour", "Got white instead of black", "wrong colour again?"},
    ("availability_mismatch", "TMB-20-RED"): {"The ad says in stock"},
    ("price_mismatch", "LID-SLD-CLR"): {"Price in the ad"},
    ("gtin_check_digit", "MUG-12-WHT"): {"Where is my mug?"},
    ("gtin_restricted_prefix", "TMB-30-NVY"): {"Order 1070"},
}


def _seed_demo_week(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    """The demo week as `aftersales demo` stores it: its orders, then its messages through intake."""
    week = tomllib.loads((DATA / "demo_week.toml").read_text(encoding="utf-8"))
    with uow() as cases:
        for data in week["order"]:
            facts = {k: v for k, v in data.items() if not k.endswith("_days_ago") and k != "customer"}
            for name in _DAY_FIELDS:
                if f"{name}_days_ago" in data:
                    facts[f"{name}_at"] = (NOW - timedelta(days=data[f"{name}_days_ago"])).isoformat()
            cases.save_order(parse_order(facts, "demo"), cases.customer_id(data["customer"], "", NOW), NOW)
    for data in week["message"]:
        day = (NOW - timedelta(days=data["days_ago"])).date()
        sent = min(datetime.combine(day, time.fromisoformat(data["at"]), tzinfo=NY), NOW)
        incoming = message(data["text"], sender=data["from"], sent=sent, subject=data["subject"])
        take_in(uow, kit, Incoming(incoming, "demo"), now=sent)


def _audit(engine: Engine, kit: RoutingKit, *, tasks: bool = True) -> FeedAudit:
    inputs = AuditInputs(
        feed=read_feed(DATA / "demo_feed.tsv"), products=read_products(DATA / "demo_products.csv")
    )
    return audit_feed(
        inputs,
        feed_links_unit_of_work(engine),
        tasks_unit_of_work(engine) if tasks else None,
        kit.policy,
        NOW,
    )


def test_the_demo_feed_gives_exactly_the_planted_defects_each_linked_to_its_cases(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    _seed_demo_week(uow, kit)

    report = _audit(engine, kit)

    assert (report.items, report.variants, report.feed_problems, report.product_problems) == (7, 7, (), ())
    found = {(a.finding.kind.value, a.finding.sku): a for a in report.findings}
    assert set(found) == set(PLANTED)
    for key, subjects in PLANTED.items():
        linked = {link.case.subject for link in found[key].cases}
        assert subjects <= linked, key
    colour = found["color_mismatch", "TMB-20-BLK"]
    assert {link.case.subject for link in colour.cases} == PLANTED["color_mismatch", "TMB-20-BLK"]
    assert report.tasks_opened == 5
    with tasks_unit_of_work(engine)() as repo:
        tasks = {task.draft.key: task for task in repo.tasks(source=TaskSource.FEED_AUDIT)}
    assert set(tasks) == {f"feed|{kind}|{sku}" for kind, sku in PLANTED}
    colour_task = tasks["feed|color_mismatch|TMB-20-BLK"]
    assert (colour_task.draft.target, colour_task.draft.owner_role) == (Target.SKU_NAMING, "marketing")
    assert colour_task.draft.owner_name == kit.policy.leads["marketing"].name
    assert sorted(colour_task.draft.evidence["cases"]) == sorted(link.case.id for link in colour.cases)
    assert colour_task.draft.due_at == NOW + timedelta(days=7)


def test_a_rerun_files_no_new_task_and_a_closed_defect_that_returns_opens_one(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    _seed_demo_week(uow, kit)
    first = _audit(engine, kit)

    again = _audit(engine, kit)
    with tasks_unit_of_work(engine)() as repo:
        closed = repo.close(again.findings[0].task_id or 0, "Aiko", "fixed in the feed", NOW)
    third = _audit(engine, kit)
    dry = _audit(engine, kit, tasks=False)

    assert again.tasks_opened == 0
    assert [a.task_id for a in again.findings] == [a.task_id for a in first.findings]
    assert third.tasks_opened == 1
    assert third.findings[0].task_id != closed.id
    assert {a.task_id for a in dry.findings} == {None}
    assert len(dry.findings) == 5


def test_without_cases_the_findings_stand_alone(engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    report = _audit(engine, kit, tasks=False)

    assert len(report.findings) == 5
    assert all(audited.cases == () for audited in report.findings)


def test_a_case_is_on_a_sku_by_its_own_sku_or_by_its_order(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    _seed_demo_week(uow, kit)
    with uow() as cases:
        cases.db.execute(
            schema.cases.update().where(schema.cases.c.subject == "Dishwasher safe?").values(sku="TMB-30-GRN")
        )

    with feed_links_unit_of_work(engine)() as links:
        on_sku = links.cases_on_skus(["TMB-30-GRN", "NO-SUCH-SKU"])

    assert list(on_sku) == ["TMB-30-GRN"]
    assert [case.subject for case in on_sku["TMB-30-GRN"]] == [
        "Dishwasher safe?",
        "Change address on order 1080",
    ]
