#!/usr/bin/env bash
# Make sure the system Chromium exists for the browser tests (tests/browser, Playwright drives
# it; `playwright install` is never run). Installs the OS package `chromium` when it is
# missing (root, or sudo without a password). Prints nothing on stdout; progress and problems
# go to stderr. Exits 1 when Chromium is still missing (the browser tests then fail in CI and
# skip elsewhere).
set -uo pipefail

say() { echo "test-browser: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
found() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }

found && exit 0

command -v apt-get >/dev/null || { say "chromium is missing and there is no apt-get to install it"; exit 1; }
say "installing chromium from the OS packages"
as_root apt-get update -qq >&2 </dev/null || { say "apt-get update failed"; exit 1; }
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 </dev/null ||
  { say "apt-get install chromium failed"; exit 1; }
found || { say "chromium was installed but is not on PATH"; exit 1; }
