"""`aftersales import products`: a summary that names each bad line, the same file twice
changes nothing, and a file that is not a products export is refused before anything is saved."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from aftersales.cli import cli
from aftersales.domain.errors import InputError

HEADER = "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Barcode,Image Src"
ROWS = [
    "tumbler-20,Steel Tumbler 20oz,Color,Black,TUM-20-BLK,22.00,0012345678905,https://cdn.example.com/t.jpg",
    "tumbler-20,,,White,TUM-20-WHT,22.00,1.23457E+12,",
    "tumbler-20,,,,,,,https://cdn.example.com/t2.jpg",
    "lid,Slide Lid,Title,Default Title,LID-1,6.5O,,",
    "straws,Steel Straws,Title,Default Title,STR-4,9.00,,",
]


def _run(tmp_path: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli, list(args), env={"AFTERSALES_DATA_DIR": str(tmp_path / "data")})
    return result.exit_code, result.stdout, result.exception


def test_products_import_twice_reports_bad_lines_then_changes_nothing(tmp_path: Path) -> None:
    export = tmp_path / "products_export.csv"
    export.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")

    code, first, _ = _run(tmp_path, "import", "products", str(export), "--json")
    _, again, _ = _run(tmp_path, "import", "products", str(export))

    assert code == 0
    summary = json.loads(first)
    assert (summary["new"], summary["updated"], summary["unchanged"], summary["failed"]) == (2, 0, 0, 2)
    assert [failure["line"] for failure in summary["failures"]] == [3, 5]
    assert summary["failures"][1]["reason"] == "Variant Price '6.5O' is not an amount like 24.00"
    assert again.splitlines()[0] == f"{export}: 0 new variants, 0 updated, 2 unchanged, 2 failed"
    assert again.splitlines()[2] == "  line 5: Variant Price '6.5O' is not an amount like 24.00"


def test_a_file_that_is_not_a_products_export_is_refused_and_nothing_is_saved(tmp_path: Path) -> None:
    export = tmp_path / "orders_export.csv"
    export.write_text("Name,Email\n#1001,ana@example.com\n", encoding="utf-8")

    _, _, error = _run(tmp_path, "import", "products", str(export))

    assert isinstance(error, InputError)
    assert "no Handle column (found: Name, Email)" in str(error)
    assert not (tmp_path / "data" / "aftersales.db").exists()  # refused before the desk opened
