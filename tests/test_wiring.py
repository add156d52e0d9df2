"""Wiring builds every store of the desk, the database upgrade and the web desk's key."""

from __future__ import annotations

import stat
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from aftersales.domain.accounts import Role
from aftersales.settings import Settings, load_settings
from aftersales.wiring import Desk, open_desk, session_secret, storage_error, upgrade_database


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"AFTERSALES_DATA_DIR": str(tmp_path / "data")})


_STORES: dict[str, Callable[[Desk], Callable[[], AbstractContextManager[object]]]] = {
    "users": lambda desk: desk.users,
    "read_users": lambda desk: desk.read_users,
    "tasks": lambda desk: desk.tasks,
    "holds": lambda desk: desk.holds,
    "reviews": lambda desk: desk.reviews,
    "review_requests": lambda desk: desk.review_requests,
    "read_review_requests": lambda desk: desk.read_review_requests,
    "catalogue": lambda desk: desk.catalogue,
    "policy_texts": lambda desk: desk.policy_texts,
    "read_policy_texts": lambda desk: desk.read_policy_texts,
    "mailbox_states": lambda desk: desk.mailbox_states,
    "packets": lambda desk: desk.packets,
    "weekly_review": lambda desk: desk.weekly_review,
    "feed_links": lambda desk: desk.feed_links,
    "contact_posts": lambda desk: desk.contact_posts,
    "presence": lambda desk: desk.presence,
    "read_presence": lambda desk: desk.read_presence,
}


@pytest.mark.parametrize("store", sorted(_STORES))
def test_each_store_opens_one_transaction_on_the_desk(settings: Settings, store: str) -> None:
    desk = open_desk(settings)
    try:
        with _STORES[store](desk)() as repository:
            assert repository is not None
    finally:
        desk.close()


def test_the_users_store_and_its_reading_twin_see_the_same_rows(settings: Settings) -> None:
    desk = open_desk(settings)
    with desk.users() as users:
        users.add_user("ana@example.com", "Ana", Role.ADMIN, "hash", datetime.now(UTC))
    with desk.read_users() as users:
        assert [u.email for u in users.list_users()] == ["ana@example.com"]
    desk.close()


def test_upgrading_twice_changes_nothing_the_second_time(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    first = upgrade_database(settings)
    second = upgrade_database(settings)
    assert first.before is None
    assert first.after is not None
    assert second.before == second.after == first.after
    assert "aftersales.db" in first.where


def test_the_session_key_is_made_once_and_kept_private(settings: Settings) -> None:
    key = session_secret(settings)
    path = settings.data_dir / "secret_key"
    assert session_secret(settings) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 48


def test_a_configured_session_key_wins(settings: Settings) -> None:
    assert session_secret(replace(settings, secret_key="from-the-environment")) == "from-the-environment"
    assert not (settings.data_dir / "secret_key").exists()


def test_the_storage_error_is_what_the_database_layer_raises(settings: Settings) -> None:
    assert issubclass(OperationalError, storage_error())


def test_the_policy_turns_the_semantic_reader_off(tmp_path: Path) -> None:
    from aftersales.adapters.policy.file import default_policy_text  # noqa: PLC0415
    from aftersales.adapters.reader.sentence_model import libraries_present, weights_folder  # noqa: PLC0415
    from aftersales.wiring import build_routing_kit  # noqa: PLC0415

    policy = tmp_path / "store-policy.toml"
    policy.write_text(default_policy_text().replace("semantic = true", "semantic = false", 1))
    installed = weights_folder() is not None and libraries_present()

    on = build_routing_kit(Settings(data_dir=tmp_path / "on", policy_file=None))
    off = build_routing_kit(Settings(data_dir=tmp_path / "off", policy_file=policy))

    assert (on.semantic is not None, off.semantic) == (installed, None)
