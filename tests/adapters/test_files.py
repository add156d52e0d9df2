"""The one atomic writer: whole files, private in the data folder, ordinary elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersales.adapters.files.atomic import write_atomically
from aftersales.settings import Settings
from aftersales.web.app import create_app


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask (0022), under which an ordinary new file is 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_file_is_written_whole_and_replaces_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "suppression.csv"
    write_atomically(target, b"old\n")

    write_atomically(target, b"email,reason,since\n")

    assert target.read_bytes() == b"email,reason,since\n"
    assert [p.name for p in tmp_path.iterdir()] == ["suppression.csv"]  # no temporary file left


@pytest.mark.usefixtures("usual_umask")
def test_a_file_the_user_asked_for_gets_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "packet.pdf"

    write_atomically(target, b"%PDF")

    assert mode_of(target) == 0o644


def test_ordinary_permissions_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        write_atomically(tmp_path / "export.csv", b"email\n")
    finally:
        os.umask(previous)

    assert mode_of(tmp_path / "export.csv") == 0o600


@pytest.mark.usefixtures("usual_umask")
def test_a_private_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "attachment"
    target.write_bytes(b"an older, readable copy")
    target.chmod(0o644)

    write_atomically(target, b"a customer's photo", private=True)

    assert (target.read_bytes(), mode_of(target)) == (b"a customer's photo", 0o600)


@pytest.mark.usefixtures("usual_umask")
def test_the_session_key_is_made_once_and_stays_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", policy_file=None)

    first = create_app(settings, tick_seconds=None).state.web
    first.desk.engine.dispose()
    again = create_app(settings, tick_seconds=None).state.web
    again.desk.engine.dispose()

    key_file = tmp_path / "data" / "secret_key"
    assert mode_of(key_file) == 0o600
    assert first.secret_key == again.secret_key == key_file.read_text(encoding="utf-8")


def test_a_file_made_once_keeps_the_first_writer_s_content(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"

    first = write_atomically(path, b"first", private=True, replace=False)
    second = write_atomically(path, b"second", private=True, replace=False)

    assert first == second == path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def test_servers_starting_at_once_share_one_session_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from aftersales.wiring import session_secret

    settings = Settings(data_dir=tmp_path, policy_file=None)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: session_secret(settings), range(16)))

    assert keys == {(tmp_path / "secret_key").read_text(encoding="utf-8").strip()}
