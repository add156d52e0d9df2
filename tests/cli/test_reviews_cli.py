"""`aftersales import reviews`: the command object on its own (the `import` group adds it): a
summary naming each bad line, the same file twice changes nothing, other files are refused."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from aftersales.cli.product_reviews import reviews_command
from aftersales.domain.errors import InputError
from aftersales.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reviews"


def _run(tmp_path: Path, *args: str) -> tuple[int, str, BaseException | None]:
    settings = load_settings({"AFTERSALES_DATA_DIR": str(tmp_path / "data")})
    result = CliRunner().invoke(reviews_command, list(args), obj=settings)
    return result.exit_code, result.stdout, result.exception


def test_importing_a_yotpo_export_twice_reports_then_changes_nothing(tmp_path: Path) -> None:
    export = str(FIXTURES / "yotpo.csv")

    code, first, _ = _run(tmp_path, export, "--json")
    _, again, _ = _run(tmp_path, export, "--json")

    assert code == 0
    summary = json.loads(first)
    counts = (summary["source"], summary["stored"], summary["cases_opened"], summary["held"])
    assert counts == ("yotpo", 3, 2, 1)
    assert [f["line"] for f in summary["failures"]] == [4]
    repeat = json.loads(again)
    assert (repeat["stored"], repeat["unchanged"], repeat["cases_opened"], repeat["held"]) == (0, 3, 0, 0)


def test_the_text_summary_names_the_format_and_each_bad_line(tmp_path: Path) -> None:
    code, output, _ = _run(tmp_path, str(FIXTURES / "judgeme.csv"))

    assert code == 0
    assert output.splitlines() == [
        f"{FIXTURES / 'judgeme.csv'} (judgeme): 3 new reviews, 0 updated, 0 unchanged, 1 failed; "
        "2 review cases opened, 2 buyers' automation on hold",
        "  line 5: rating 'six' is not a whole number of stars from 1 to 5",
    ]


def test_a_file_that_is_not_a_review_export_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "orders.csv"
    export.write_text("Name,Email\n#1043,ana@example.com\n", encoding="utf-8")

    _, _, error = _run(tmp_path, str(export))

    assert isinstance(error, InputError)
    assert "not a Judge.me or Yotpo reviews export" in str(error)
    assert not (tmp_path / "data" / "aftersales.db").exists()
