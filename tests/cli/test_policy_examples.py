"""Every example in the default policy file's comments, uncommented, passes `policy check`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.adapters.files.packaged import read_packaged_text
from aftersales.adapters.policy.file import default_policy_text
from aftersales.cli import cli
from aftersales.domain.evidence import DETECTED_BY

DEFAULT = default_policy_text()
# A commented example starts at a commented table header ("# [sla.chargeback_risk]") and runs
# to the first line that is not a comment; the "# " the file puts in front is taken off.
_EXAMPLE = re.compile(r"^# \[[^\]]+\]\n(?:#.*\n)*", re.MULTILINE)
EXAMPLES = [match.group() for match in _EXAMPLE.finditer(DEFAULT)]


def _uncommented(block: str) -> str:
    return "".join(line.removeprefix("#").removeprefix(" ") + "\n" for line in block.splitlines())


def _check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["policy", "check", str(path)])
    return result.exit_code, result.output


def test_the_default_shows_an_example_of_each_optional_table() -> None:
    headers = sorted(block.split("\n", 1)[0] for block in EXAMPLES)
    assert headers == [
        "# [cues.wrong_item]",
        "# [history.tag_routes]",
        "# [replies.fr]",
        "# [routes.wrong_item]",
        "# [sla.chargeback_risk]",
    ]


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda block: block.split("\n", 1)[0].strip("# []"))
def test_each_commented_example_uncommented_passes_policy_check(tmp_path: Path, block: str) -> None:
    code, output = _check(tmp_path, DEFAULT.replace(block, _uncommented(block)))

    assert code == 0, output
    assert "(overridden:" in output or block.startswith(("# [replies.", "# [cues.", "# [history.")), output


def test_all_examples_uncommented_together_pass_policy_check(tmp_path: Path) -> None:
    text = DEFAULT
    for block in EXAMPLES:
        text = text.replace(block, _uncommented(block))

    code, output = _check(tmp_path, text)

    assert code == 0, output


def test_the_policy_comment_lists_every_detected_by_value() -> None:
    comment = DEFAULT[DEFAULT.index("optional detected_by:") : DEFAULT.index("only a person ticks it")]
    assert re.findall(r"[a-z_]+(?:\.[a-z_]+)?", comment.split(":", 1)[1].replace("# ", "")) == [
        "the",
        "fact",
        "that",
        "ticks",
        "the",
        "item",
        "one",
        "of",
        *DETECTED_BY,
        "left",
        "out",
    ]


def test_the_routes_table_header_lists_every_detected_by_value() -> None:
    header = read_packaged_text("routes.toml").split("\nschema = 1", 1)[0]
    assert [value for value in DETECTED_BY if value not in header] == []
