#!/usr/bin/env bash
# Make sure a PostgreSQL server runs for the storage tests, and print its URL on stdout.
# Uses AFTERSALES_TEST_DATABASE_URL when set; else a server on 127.0.0.1:5432; else starts
# the local cluster; else installs PostgreSQL from the OS packages (root, or sudo) and starts
# it. Prints nothing when none of that is possible (the tests then skip the PostgreSQL half,
# except in CI, where they fail). Progress goes to stderr.
set -uo pipefail

if [ -n "${AFTERSALES_TEST_DATABASE_URL:-}" ]; then echo "$AFTERSALES_TEST_DATABASE_URL"; exit 0; fi

say() { echo "test-postgres: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

start_cluster() {
  command -v pg_ctlcluster >/dev/null || return 1
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || return 1
  say "starting the PostgreSQL $version cluster"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 </dev/null || true
}

install_postgres() {
  command -v apt-get >/dev/null || return 1
  say "installing PostgreSQL from the OS packages"
  as_root apt-get update -qq >/dev/null 2>&1 </dev/null || return 1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 </dev/null || return 1
}

wait_ready() { for _ in $(seq 1 30); do ready && return 0; sleep 1; done; return 1; }

if ! ready; then
  start_cluster || true
  wait_ready || { install_postgres && start_cluster; wait_ready; } || { say "no PostgreSQL server could be started"; exit 0; }
fi

# A fresh Debian cluster trusts local TCP only for some setups: try the postgres user over
# TCP, then over the local socket as the postgres OS user.
url="postgresql://postgres@127.0.0.1:5432/postgres"
if command -v psql >/dev/null && psql "$url" -Atqc 'select 1' >/dev/null 2>&1; then echo "$url"; exit 0; fi
# Otherwise a dedicated test role (it may only create databases), made by the postgres OS user.
role="do \$\$ begin if not exists (select from pg_roles where rolname = 'aftersales_test') then
  create role aftersales_test login createdb password 'aftersales-test'; end if; end \$\$;"
if as_root su postgres -c "psql -Atq -c \"$role\"" >/dev/null 2>&1; then
  echo "postgresql://aftersales_test:aftersales-test@127.0.0.1:5432/postgres"; exit 0
fi
say "a PostgreSQL server runs, but the postgres user cannot log in over 127.0.0.1"
exit 0
