"""`aftersales audit-feed`: findings grouped by kind (exit 1), a clean feed (exit 0), an
unreadable file refused before anything is written, and tasks filed once."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import aftersales
from aftersales.cli import cli
from aftersales.cli.audit import write_demo_files
from aftersales.domain.errors import InputError

DATA = Path(aftersales.__file__).parent / "data"
PRODUCTS = str(DATA / "demo_products.csv")
FEED = str(DATA / "demo_feed.tsv")


def _run(tmp_path: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli, list(args), env={"AFTERSALES_DATA_DIR": str(tmp_path / "data")})
    return result.exit_code, result.stdout, result.exception


def test_the_demo_feed_reports_its_defects_and_files_tasks_once(tmp_path: Path) -> None:
    code, first, _ = _run(tmp_path, "audit-feed", "--products", PRODUCTS, "--feed", FEED, "--json")
    again_code, again, _ = _run(tmp_path, "audit-feed", "--products", PRODUCTS, "--feed", FEED)

    report = json.loads(first)
    assert code == again_code == 1
    assert (report["items"], report["variants"], report["clean"], report["tasks_opened"]) == (7, 7, False, 5)
    assert [(f["kind"], f["sku"], f["where"]) for f in report["findings"]] == [
        ("gtin_check_digit", "MUG-12-WHT", "line 7"),
        ("gtin_restricted_prefix", "TMB-30-NVY", "line 5"),
        ("price_mismatch", "LID-SLD-CLR", "line 8"),
        ("availability_mismatch", "TMB-20-RED", "line 4"),
        ("color_mismatch", "TMB-20-BLK", "line 2"),
    ]
    assert report["findings"][2]["feed_value"] == "6.00 USD"
    assert report["findings"][2]["shop_value"] == "8.00 USD"
    assert all(f["task"]["new"] for f in report["findings"])
    assert "5 findings, 0 bad rows, 0 write-back tasks opened" in again.splitlines()[0]
    assert "\ncolor_mismatch (1): the feed's color is not the variant's [error; sku_naming]\n" in again
    assert "  TMB-20-BLK (line 2): feed White, shop Black\n" in again


def test_a_feed_that_agrees_with_the_shop_exits_0(tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text(
        "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Barcode\n"
        "lid,Slider lid,Color,Clear,LID-SLD-CLR,8.00,850012345077\n",
        encoding="utf-8",
    )
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>LID-SLD-CLR</g:id>'
        "<g:price>8.00 USD</g:price><g:availability>in_stock</g:availability>"
        "<g:gtin>850012345077</g:gtin><g:color>Clear</g:color></item></channel></rss>",
        encoding="utf-8",
    )

    code, out, _ = _run(
        tmp_path, "audit-feed", "--products", str(products), "--feed", str(feed), "--no-tasks"
    )

    assert code == 0
    assert out.splitlines()[-1] == "the feed agrees with the shop"


def test_an_unreadable_feed_is_refused_before_the_desk_opens(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text('<?xml version="1.0"?>\n<rss><channel><item>\n</rss>\n', encoding="utf-8")

    _, _, error = _run(tmp_path, "audit-feed", "--products", PRODUCTS, "--feed", str(feed))
    missing, _, _ = _run(tmp_path, "audit-feed", "--products", PRODUCTS, "--feed", str(tmp_path / "no.tsv"))

    assert isinstance(error, InputError)
    assert str(error) == f"{feed}:3:2: not well-formed XML: mismatched tag"
    assert missing == 2
    assert not (tmp_path / "data" / "aftersales.db").exists()


def test_no_tasks_links_cases_but_files_nothing(tmp_path: Path) -> None:
    _, out, _ = _run(tmp_path, "audit-feed", "--products", PRODUCTS, "--feed", FEED, "--json", "--no-tasks")

    report = json.loads(out)
    assert report["tasks_opened"] == 0
    assert {f["task"] is None for f in report["findings"]} == {True}


def test_the_demo_files_are_written_for_the_demo_to_import(tmp_path: Path) -> None:
    products, feed = write_demo_files(tmp_path / "demo")

    assert products.read_text(encoding="utf-8") == Path(PRODUCTS).read_text(encoding="utf-8")
    assert feed.name == "demo_feed.tsv"
    code, _, _ = _run(tmp_path, "audit-feed", "--products", str(products), "--feed", str(feed), "--no-tasks")
    assert code == 1
