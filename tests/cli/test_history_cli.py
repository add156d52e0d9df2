"""`aftersales import history` from the command line, and learning from what it imported.

Given a small export in our JSON-lines format and a policy mapping its tags to routes, when it
is imported, then the summary counts conversations, messages and notes, lists the bad lines,
and exits 0; a second run imports nothing; --dry-run leaves every table as it was; and
`aftersales train --from-desk` learns from the mapped conversations and prints its
cross-validated accuracy. An unreadable file or a bad option exits 2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.policy.file import default_policy_text
from aftersales.cli import cli
from support.history import STORY, conversation, msg, write_lines

Env = dict[str, str | None]
# (tag, what the customer wrote): the old tool's tags, mapped to routes by the policy below
TAGGED = [
    ("wismo", "Where is my parcel? Tracking has said label created for a week now."),
    ("wismo", "My order still has not arrived, it has been ten days, where is it?"),
    ("wismo", "Package stuck in transit since Monday, any update on the delivery?"),
    ("broken", "The mug arrived with a crack down the side, the box was crushed."),
    ("broken", "Lid snapped off on arrival and the glass is chipped, photo attached."),
    ("broken", "Item came damaged, the handle is broken off."),
    ("refund", "I would like to return the blue one and get my money back please."),
    ("refund", "Can I send this back for a refund? It is not what I expected."),
    ("refund", "Please refund my order, I returned it last week."),
]
TAG_ROUTES = (
    '[history.tag_routes]\nwismo = "shipping_delay"\nbroken = "damaged_item"\nrefund = "refund_return"\n'
)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("warm")
    result = CliRunner().invoke(
        cli, ["sla", "due", "2026-11-24T10:00:00-05:00", "1"], env={"AFTERSALES_DATA_DIR": str(data_dir)}
    )
    assert result.exit_code == 0, result.output
    return data_dir / "cache"


@pytest.fixture
def env(tmp_path: Path, warm_cache: Path) -> Env:
    shutil.copytree(warm_cache, tmp_path / "data" / "cache")
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_text() + "\n" + TAG_ROUTES, encoding="utf-8")
    return {
        "AFTERSALES_DATA_DIR": str(tmp_path / "data"),
        "AFTERSALES_POLICY": str(policy),
        "AFTERSALES_DATABASE_URL": None,
    }


def invoke(env: Env, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def tagged_export(path: Path) -> Path:
    lines = [
        conversation(
            f"Z-{n}",
            msg("1", f"2025-04-{n + 1:02d}T10:00:00+00:00", "in", text, sender=f"c{n}@example.com"),
            msg("2", f"2025-04-{n + 1:02d}T12:00:00+00:00", "out", "Thanks, we are on it.", sender="Agent"),
            tags=[tag],
            email=f"c{n}@example.com",
            created_at=f"2025-04-{n + 1:02d}T10:00:00+00:00",
            closed_at=f"2025-04-{n + 2:02d}T10:00:00+00:00",
        )
        for n, (tag, text) in enumerate(TAGGED)
    ]
    return write_lines(path, lines)


def row_counts(env: Env) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{Path(str(env['AFTERSALES_DATA_DIR'])) / 'aftersales.db'}")
    try:
        with engine.connect() as db:
            return {
                t.name: int(db.execute(select(func.count()).select_from(t)).scalar_one())
                for t in schema.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_an_import_reports_what_it_did_and_a_second_run_changes_nothing(env: Env, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "past.jsonl", STORY)

    first = invoke(env, "import", "history", str(path))
    counts = row_counts(env)
    second = invoke(env, "import", "history", str(path), "--json")

    assert first.exit_code == 0, first.output
    assert (
        f"{path}: imported 2 conversations (3 messages, 1 note); 0 already there; 2 skipped" in first.stdout
    )
    assert "skipped 2 bad records (the others are imported):" in first.stdout
    assert "  line 3: created_at must be an ISO 8601 time with an offset" in first.stdout
    assert '  line 4: the conversation has no messages ("messages" must be a non-empty list)' in first.stdout
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert (report["imported"], report["already_there"], report["skipped"]) == (0, 2, 2)
    assert row_counts(env) == counts
    assert (counts["cases"], counts["messages"], counts["outbox"], counts["review_requests"]) == (2, 4, 0, 0)


def test_a_dry_run_leaves_every_table_as_it_was(env: Env, tmp_path: Path) -> None:
    invoke(env, "import", "history", str(write_lines(tmp_path / "one.jsonl", STORY[:1])))
    before = row_counts(env)

    result = invoke(env, "import", "history", str(write_lines(tmp_path / "past.jsonl", STORY)), "--dry-run")

    assert result.exit_code == 0, result.output
    assert (
        "dry run, nothing written: would import 1 conversation (1 message, 0 notes); 1 already there"
        in result.stdout
    )
    assert row_counts(env) == before


def test_mapped_tags_become_labels_the_store_model_learns_from(env: Env, tmp_path: Path) -> None:
    imported = invoke(env, "import", "history", str(tagged_export(tmp_path / "tagged.jsonl")))
    trained = invoke(env, "train", "--from-desk", "--folds", "3")

    assert imported.exit_code == 0, imported.output
    assert "9 conversations routed by [history.tag_routes] are labelled examples now" in imported.stdout
    assert trained.exit_code == 0, trained.output
    assert "9 labelled messages (" in trained.stdout
    assert "shipping_delay 3" in trained.stdout
    assert "damaged_item 3" in trained.stdout
    assert "3-fold cross-validated" in trained.stdout
    assert "accuracy after:" in trained.stdout


def test_suggested_tag_routes_come_with_the_toml_to_paste(env: Env, tmp_path: Path) -> None:
    result = invoke(
        env, "import", "history", str(tagged_export(tmp_path / "tagged.jsonl")), "--suggest-tag-routes"
    )

    assert result.exit_code == 0, result.output
    assert "[history.tag_routes]" in result.stdout
    assert 'wismo = "shipping_delay"  # 3 conversations' in result.stdout
    assert not (Path(str(env["AFTERSALES_DATA_DIR"])) / "aftersales.db").exists()  # nothing imported


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--since", "last week"], 2, "'last week' is not a date"),
        (["--format", "kayako"], 2, "Invalid value for '--format'"),
    ],
)
def test_bad_options_exit_2(env: Env, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    result = invoke(env, "import", "history", str(write_lines(tmp_path / "past.jsonl", STORY)), *args)

    assert result.exit_code == code
    assert message in result.output


def test_a_file_of_another_shape_exits_2_and_one_of_only_bad_lines_exits_1(env: Env, tmp_path: Path) -> None:
    other = tmp_path / "tickets.csv"
    other.write_text("id,subject\n1,hello\n", encoding="utf-8")
    broken = write_lines(tmp_path / "broken.jsonl", [STORY[0], "{oops"])
    broken.write_text("{oops\n[1]\n", encoding="utf-8")

    unknown = invoke(env, "import", "history", str(other))
    all_bad = invoke(env, "import", "history", str(broken), "--format", "aftersales")

    assert unknown.exit_code != 0
    assert isinstance(unknown.exception, Exception)
    assert "cannot tell which tool's export this is" in str(unknown.exception)
    assert all_bad.exit_code == 1
    assert "nothing imported: all 2 records" in all_bad.output
