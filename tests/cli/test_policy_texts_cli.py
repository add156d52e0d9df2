"""`aftersales policy texts add | list | show`: versions of the published policy texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aftersales.cli import cli
from aftersales.domain.errors import InputError

RETURNS = "Returns within 30 days of delivery. The buyer pays return shipping. Unused items only.\n"


def _run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["policy", "texts", *args], env={"AFTERSALES_DATA_DIR": str(tmp_path / "data")}
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    texts = {"refund": "Refunds within 5 days.\n", "return": RETURNS, "shipping": "<p>Ships in 2 days.</p>\n"}
    paths = {}
    for kind, text in texts.items():
        path = tmp_path / f"{kind}.md"
        path.write_text(text, encoding="utf-8")
        paths[kind] = str(path)
    return paths


def test_texts_added_twice_make_one_version(tmp_path: Path, files: dict[str, str]) -> None:
    args = ["add", "--refund", files["refund"], "--return", files["return"], "--shipping", files["shipping"]]

    first = _run(tmp_path, *args, "--json")
    again = _run(tmp_path, *args)

    assert first.exit_code == 0, first.output
    added = json.loads(first.stdout)
    assert (added["version"], added["added"], added["kinds"], added["warnings"]) == (
        "v1",
        True,
        ["refund", "return", "shipping"],
        [],
    )
    assert again.stdout == "unchanged: the texts are those of v1\n"
    listed = json.loads(_run(tmp_path, "list", "--json").stdout)
    assert [(v["version"], v["in_force"], v["sha256"]) for v in listed] == [("v1", True, added["sha256"])]


def test_show_prints_each_text_under_its_kind(tmp_path: Path, files: dict[str, str]) -> None:
    _run(tmp_path, "add", "--return", files["return"], "--shipping", files["shipping"])

    shown = _run(tmp_path, "show", "v1")
    as_json = json.loads(_run(tmp_path, "show", "1", "--json").stdout)

    assert shown.exit_code == 0
    assert "--- return policy ---\n" + RETURNS.strip() in shown.stdout
    assert "--- shipping policy ---\n<p>Ships in 2 days.</p>" in shown.stdout
    assert as_json["texts"] == {"return": RETURNS.strip(), "shipping": "<p>Ships in 2 days.</p>"}


def test_an_effective_date_without_offset_is_in_the_store_time_zone(
    tmp_path: Path, files: dict[str, str]
) -> None:
    result = _run(tmp_path, "add", "--refund", files["refund"], "--effective", "2026-12-01", "--json")

    # the demo store is in New York
    assert json.loads(result.stdout)["effective_at"] == "2026-12-01T00:00:00-05:00"


def test_a_weak_return_policy_is_stored_with_warnings_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "returns.html"
    path.write_text("<p>We love returns.</p>", encoding="utf-8")

    result = _run(tmp_path, "add", "--return", str(path))

    assert result.exit_code == 0
    assert result.stdout.startswith("added v1, effective ")
    assert result.stderr.count("warning: the return policy does not state") == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"  \n", "the return policy text is empty", id="empty"),
        pytest.param(b"R\xe9turns", "the return policy file is not UTF-8 text", id="not_utf8"),
    ],
)
def test_an_unusable_file_is_refused_naming_it(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "returns.md"
    path.write_bytes(content)

    result = _run(tmp_path, "add", "--return", str(path))

    assert isinstance(result.exception, InputError)
    assert str(result.exception) == f"{path}: {expected}"
    assert _run(tmp_path, "list").stdout.startswith("no policy texts yet")


def test_add_without_a_text_and_show_of_an_unknown_version_are_refused(tmp_path: Path) -> None:
    assert _run(tmp_path, "add").exit_code == 2
    error = _run(tmp_path, "show", "v4").exception
    assert isinstance(error, InputError)
    assert "no policy text version 'v4'; the versions are: none yet" in str(error)
