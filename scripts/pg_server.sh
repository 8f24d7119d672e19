#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (Optuna RDB storage on a real server), never
# the system cluster: its own data folder under ${TL_PG_DIR:-${TMPDIR:-/tmp}/tl-pg}, listening
# on 127.0.0.1 only, password (scram-sha-256) auth over TCP, user and database `tltest`.
#   bash scripts/pg_server.sh start   # start it, or reuse the one this script already started
#   bash scripts/pg_server.sh url     # postgresql://tltest:PASSWORD@127.0.0.1:PORT/tltest
#   bash scripts/pg_server.sh stop    # stop it and remove its folder (no-op when not running)
#   bash scripts/pg_server.sh status  # exit 0 when it is running
# As root (CI) the server runs as the `postgres` system user (initdb refuses root); as another
# user it runs as that user. The server binaries come from Debian's `postgresql` package,
# installed with apt-get when no initdb/pg_ctl is found. TL_PG_PORT: first port to try
# (default 55432; the next free one is taken when it is busy).
set -euo pipefail
DIR=$(realpath -m "${TL_PG_DIR:-${TMPDIR:-/tmp}/tl-pg}")
DATA=$DIR/data        # the cluster (owned by the server user, 0700)
RUN=$DIR/run          # unix socket and server.log (owned by the server user, 0700)
URLFILE=$DIR/url      # the connection URL (owned by the caller, 0600)
DB=tltest

die() { echo "pg_server.sh: $*" >&2; exit 1; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0
  fi
  return 1
}

install_postgres() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      die "PostgreSQL server binaries (initdb, pg_ctl) not found, and installing them needs root: run as root or \`apt-get install postgresql\`"
    fi
  fi
  echo "pg_server.sh: installing Debian's postgresql package" >&2
  # The package makes a system cluster; a policy-rc.d that says no (as Docker images have)
  # keeps it from being started: this script only ever runs its own server.
  local policy=/usr/sbin/policy-rc.d made=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"; made=1
  fi
  local log; log=$(mktemp)
  { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$log" 2>&1 || rc=$?
  if [ $made = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi
  if [ $rc != 0 ]; then tail -n 20 "$log" >&2; rm -f "$log"; die "apt-get install postgresql failed ($rc)"; fi
  rm -f "$log"
}

# Run a command as the server's user.
if [ "$(id -u)" = 0 ]; then
  PGUSER_OS=postgres
  if [ -d "$DATA" ] && [ "$(stat -c %u "$DATA")" != 0 ]; then PGUSER_OS=$(stat -c %U "$DATA"); fi
  as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
  PGUSER_OS=$(id -un)
  as_pg() { "$@"; }
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() {
  [ -f "$URLFILE" ] && [ -f "$DATA/postmaster.pid" ] || return 1
  local bin; bin=$(find_bin) || return 1
  as_pg "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$(port_of_url)" -t 5
}

port_of_url() { sed -E 's#.*@127\.0\.0\.1:([0-9]+)/.*#\1#' "$URLFILE"; }

check_owner() {  # a root-started server runs as postgres: another user can't stop or reuse it
  if [ -d "$DATA" ] && [ "$(id -u)" != 0 ] && [ "$(stat -c %U "$DATA")" != "$PGUSER_OS" ]; then
    die "$DATA belongs to $(stat -c %U "$DATA"), not $PGUSER_OS: run this as root (or set TL_PG_DIR)"
  fi
}

stop_server() {
  check_owner
  local bin
  if [ -f "$DATA/postmaster.pid" ] && bin=$(find_bin); then
    as_pg "$bin/pg_ctl" -D "$DATA" -m fast -w -t 60 -s stop >/dev/null 2>&1 ||
      as_pg "$bin/pg_ctl" -D "$DATA" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

start_server() {
  check_owner
  if running; then return 0; fi                 # started earlier by this script: reuse it
  local bin; bin=$(find_bin) || { install_postgres; bin=$(find_bin) || die "no initdb/pg_ctl after installing postgresql"; }
  stop_server                                    # a stale or half-made folder: start afresh
  if [ "$(id -u)" = 0 ]; then PGUSER_OS=postgres; fi
  if [ "$(id -u)" = 0 ] && ! getent passwd "$PGUSER_OS" >/dev/null; then
    useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS" \
      || die "no \`$PGUSER_OS\` user to run the server as, and useradd failed"
  fi
  as_pg true 2>/dev/null || die "cannot run commands as $PGUSER_OS (runuser failed)"
  mkdir -p "$DIR" "$DATA" "$RUN"
  chmod 755 "$DIR"; chmod 700 "$DATA" "$RUN"
  if [ "$(id -u)" = 0 ]; then chown "$PGUSER_OS:" "$DATA" "$RUN"; fi
  as_pg test -x "$DIR" || die "$PGUSER_OS cannot reach $DIR: set TL_PG_DIR (or TMPDIR) to a folder it can enter"

  local port=${TL_PG_PORT:-55432} n=0
  while port_busy "$port"; do
    port=$((port + 1)); n=$((n + 1))
    [ $n -lt 100 ] || die "no free port from ${TL_PG_PORT:-55432} on"
  done
  local pw; pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

  as_pg "$bin/initdb" -D "$DATA" -U postgres -E UTF8 --no-locale --auth-local=trust \
    --auth-host=scram-sha-256 >"$RUN/initdb.log" 2>&1 \
    || { cat "$RUN/initdb.log" >&2; die "initdb failed"; }
  # Unix socket: trust, but only the server user can enter $RUN. TCP: passwords, loopback only.
  as_pg tee "$DATA/pg_hba.conf" >/dev/null <<EOF
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
EOF
  as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF
# scripts/pg_server.sh: throwaway test server
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$RUN'
unix_socket_permissions = 0700
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  # 9>&-: the server must not hold the lock of this script
  as_pg "$bin/pg_ctl" -D "$DATA" -l "$RUN/server.log" -w -t 60 -s start >/dev/null 9>&- \
    || { tail -n 20 "$RUN/server.log" >&2 || true; die "the server did not start (log: $RUN/server.log)"; }
  as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$port" -U postgres -d postgres \
    >/dev/null <<EOF || die "could not create the $DB user and database"
CREATE ROLE $DB LOGIN PASSWORD '$pw';
CREATE DATABASE $DB OWNER $DB;
EOF
  (umask 077; echo "postgresql://$DB:$pw@127.0.0.1:$port/$DB" >"$URLFILE")
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 10 || die "the server does not answer on 127.0.0.1:$port"
}

cd /   # the server user may not be able to enter the caller's folder
mkdir -p "$(dirname "$DIR")"
{ : >>"$DIR.lock"; } 2>/dev/null ||
  die "cannot write $DIR.lock (owner: $(stat -c %U "$DIR.lock" 2>/dev/null || echo '?')): run as that user, or set TL_PG_DIR"
exec 9>>"$DIR.lock"                          # one start/stop at a time
if command -v flock >/dev/null; then flock -w 120 9 || die "$DIR.lock: another pg_server.sh still busy after 120 s"; fi

case "${1:-}" in
  start) start_server ;;
  stop) stop_server ;;
  url) running || die "no server running (bash scripts/pg_server.sh start)"; cat "$URLFILE" ;;
  status) if running; then echo "running ($DIR)"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
