#!/usr/bin/env bash
# Local PostgreSQL for development and tests: Debian's server, run as the `postgres` user,
# data under the project's ignored .local/ folder, listening on loopback only.
#
#   postgres.sh start|stop|status|createdb NAME...|url NAME
#
# Knobs: PG_PORT (54329), PG_HOST (127.0.0.1), PG_DIR ($LOCAL_DIR/pg), LOCAL_DIR (.local/run)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local/run}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-54329}"
PG_DIR="${PG_DIR:-$LOCAL_DIR/pg}"
DATA="$PG_DIR/data"
LOG="$PG_DIR/postgres.log"

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

ensure_installed() {
  pg_bin >/dev/null && return 0
  echo "postgres.sh: installing PostgreSQL from Debian" >&2
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is missing and installing it needs root (apt-get install -y postgresql)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin >/dev/null || die "initdb still missing after installing postgresql"
}

# initdb and the server refuse to run as root: run them as `postgres` when we are root.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

ready() { "$(pg_bin)/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -U postgres 2>/dev/null; }

psql_cmd() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@"; }

init() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  mkdir -p "$PG_DIR"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$PG_DIR"
    # the postgres user must be able to reach the data directory
    local d="$PG_DIR"
    while [[ "$d" != "/" ]]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
  fi
  as_owner "$(pg_bin)/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
fsync = on
CONF
}

start() {
  ensure_installed
  if ready; then echo "postgres already answering on $PG_HOST:$PG_PORT"; return 0; fi
  init
  # the port may have changed since initdb: keep the last setting authoritative
  sed -i "s/^port = .*/port = $PG_PORT/" "$DATA/postgresql.conf"
  as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null \
    || { tail -n 40 "$LOG" >&2; die "server did not start"; }
  local deadline=$((SECONDS + 60))
  until ready && psql_cmd -d postgres -c 'select 1' >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { tail -n 40 "$LOG" >&2; die "server not answering on $PG_HOST:$PG_PORT"; }
    sleep 0.3
  done
  echo "postgres ready at $PG_HOST:$PG_PORT (data $DATA)"
}

stop() {
  [[ -f "$DATA/postmaster.pid" ]] || return 0
  as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

status() {
  if ready; then echo "postgres running on $PG_HOST:$PG_PORT"; else echo "postgres stopped"; return 1; fi
}

createdb() {
  local name
  for name in "$@"; do
    if ! psql_cmd -d postgres -tAc "select 1 from pg_database where datname = '$name'" | grep -q 1; then
      psql_cmd -d postgres -c "create database \"$name\"" >/dev/null
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  createdb) shift; createdb "$@" ;;
  url) echo "postgresql+psycopg2://postgres@$PG_HOST:$PG_PORT/${2:?database name}" ;;
  *) echo "usage: $0 start|stop|status|createdb NAME...|url NAME" >&2; exit 2 ;;
esac
