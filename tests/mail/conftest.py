"""A private Dovecot on loopback for the mail tests: its own config, users and mail in a
temporary folder, a free port, plaintext IMAP. Started once per session and stopped at the end.

Without Dovecot installed (`bash scripts/test-mail.sh` installs it) the IMAP tests skip; with
``CI`` set they fail instead, so CI can never pass without having run them.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import BaseMailBox, MailBoxUnencrypted

from aftersales.settings import MailSecurity, MailServer
from mail_send.conftest import smtp  # noqa: F401 (the SMTP server fixture, for the round trip)

USER = "support@store.example"
PASSWORD = "Corr3ct-Horse-Battery"  # distinctive, so a leak into a message or log is found
_START_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str

    def server(self, *, password: str | None = None, port: int | None = None) -> MailServer:
        return MailServer(
            host=self.host,
            port=port or self.port,
            user=self.user,
            password=self.password if password is None else password,
            security=MailSecurity.NONE,
        )

    def client(self) -> BaseMailBox:
        """A logged-in client for seeding and inspecting the test mail (use it in ``with``)."""
        return MailBoxUnencrypted(self.host, self.port, timeout=10).login(
            self.user, self.password, initial_folder=None
        )


def _dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the IMAP tests: {reason} (./dev test runs scripts/test-mail.sh)")
    pytest.skip(f"{reason}: run `bash scripts/test-mail.sh` to install Dovecot for the IMAP tests")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accounts() -> tuple[pwd.struct_passwd, pwd.struct_passwd, pwd.struct_passwd]:
    """(mail owner, internal user, login user). Dovecot refuses to run imap-login as root and
    a mail uid of 0, so as root the package's own users serve; otherwise this user is all three."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me, me, me
    try:
        return pwd.getpwnam("dovecot"), pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
    except KeyError:
        _missing("the dovecot and dovenull users are missing")
        raise


def _config(root: Path, port: int, internal: pwd.struct_passwd, login: pwd.struct_passwd) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_login_user = {login.pw_name}
default_internal_user = {internal.pw_name}
default_internal_group = {grp.getgrgid(internal.pw_gid).gr_name}
# no chroot: only root may chroot, and this Dovecot also runs as an ordinary user
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# no growing delay after a failed login (the wrong-password tests would slow every later login)
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
"""


def _wait_for(port: int, log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    pytest.fail(f"Dovecot did not start listening on 127.0.0.1:{port}:\n{text}")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    if binary is None:
        _missing("dovecot is not installed")
        return
    owner, internal, login = _accounts()
    # not under pytest's tmp folder: that is private to this user, and Dovecot's users must reach it
    root = Path(tempfile.mkdtemp(prefix="aftersales-dovecot-"))
    root.chmod(0o755)
    mail = root / "mail" / "support"
    mail.mkdir(parents=True)
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{mail}\n", encoding="utf-8"
    )
    for path in (root / "mail", mail):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, internal, login), encoding="utf-8")
    # Dovecot forks into the background: it must not hold this process's stdout/stderr open.
    subprocess.run(
        [binary, "-c", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=30,
    )
    try:
        _wait_for(port, root / "dovecot.log")
        yield Dovecot("127.0.0.1", port, USER, PASSWORD)
    finally:
        _stop(root)


def _stop(root: Path) -> None:
    """SIGTERM to the master process. It takes a few seconds to finish exiting; nothing needs
    to wait for that (the next session uses another folder and port)."""
    with contextlib.suppress(OSError, ValueError):
        os.kill(int((root / "run" / "master.pid").read_text().strip()), signal.SIGTERM)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    """A new, empty folder of the test account: each test has its own mailbox."""
    name = f"Test{secrets.token_hex(4)}"
    with dovecot.client() as client:
        client.folder.create(name)
    return name
