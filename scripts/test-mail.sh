#!/usr/bin/env bash
# Make sure Dovecot exists for the mail tests (tests/mail start their own private, loopback-only
# Dovecot with a config in a temporary folder; nothing here configures or starts the system one).
# Installs the OS package `dovecot-imapd` when `dovecot` is missing (root, or sudo without a
# password). Prints nothing on stdout; progress and problems go to stderr. Exits 1 when Dovecot
# is still missing (the mail tests then fail in CI and skip elsewhere).
set -uo pipefail

say() { echo "test-mail: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
found() { command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; }

found && exit 0

command -v apt-get >/dev/null || { say "dovecot is missing and there is no apt-get to install it"; exit 1; }
say "installing dovecot-imapd from the OS packages"
as_root apt-get update -qq >&2 </dev/null || { say "apt-get update failed"; exit 1; }
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >&2 </dev/null ||
  { say "apt-get install dovecot-imapd failed"; exit 1; }
found || { say "dovecot was installed but is not on PATH"; exit 1; }
