"""`aftersales import orders`: a summary that names each bad line, the same file twice changes
nothing, and a file that is not an orders export is refused before anything is saved."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from aftersales.cli import cli
from aftersales.domain.errors import InputError

HEADER = "Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Shipping Country"
ROWS = [
    "#1043,ana@example.com,paid,USD,48.00,2026-11-16 10:00:00 -0500,2,Tumbler 20oz,24.00,TUM-20-BLK,Ana Silva,US",
    "#1044,bo@example.com,paid,USD,24.00,2026-11-17 xx,1,Tumbler 20oz,24.00,TUM-20-WHT,Bo Lee,US",
    "#1045,cy@example.com,paid,USD,30.00,2026-11-18 09:30:00 -0500,1,Lid,30.00,LID-1,Cy Diaz,CA",
]


def _run(tmp_path: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(cli, list(args), env={"AFTERSALES_DATA_DIR": str(tmp_path / "data")})
    return result.exit_code, result.stdout, result.exception


def test_orders_import_twice_reports_bad_lines_then_changes_nothing(tmp_path: Path) -> None:
    export = tmp_path / "orders_export.csv"
    export.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")

    code, first, _ = _run(tmp_path, "import", "orders", str(export), "--json")
    _, again, _ = _run(tmp_path, "import", "orders", str(export), "--json")

    assert code == 0
    summary = json.loads(first)
    assert (summary["new"], summary["updated"], summary["unchanged"], summary["failed"]) == (2, 0, 0, 1)
    assert summary["failures"][0]["line"] == 3
    assert (json.loads(again)["new"], json.loads(again)["unchanged"]) == (0, 2)


def test_a_file_that_is_not_an_orders_export_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "customers.csv"
    export.write_text("Order,Email\n1,ana@example.com\n", encoding="utf-8")

    _, _, error = _run(tmp_path, "import", "orders", str(export))

    assert isinstance(error, InputError)
    assert "no Name column" in str(error)
