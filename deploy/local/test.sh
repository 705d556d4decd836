#!/usr/bin/env bash
# `make test`: fresh PostgreSQL databases and a fresh Kafka on test ports, then unit, database and
# integration tests; stops what it started and exits non-zero on any failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.local/venv}"
export LOCAL_DIR="${TEST_LOCAL_DIR:-$ROOT/.local/test}"
export PG_PORT="${TEST_PG_PORT:-54339}"
export KAFKA_PORT="${TEST_KAFKA_PORT:-19192}"
export KAFKA_CONTROLLER_PORT="${TEST_KAFKA_CONTROLLER_PORT:-19193}"
export INFRA_SCRIPTS="$HERE"   # lets fault tests stop and restart the broker

cleanup() { "$HERE/infra.sh" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$HERE/kafka.sh" reset
"$HERE/postgres.sh" start
for db in crm erp; do
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "drop database if exists $db with (force)"
done
"$HERE/infra.sh" up
eval "$("$HERE/infra.sh" env)"
"$VENV/bin/crm" migrate
"$VENV/bin/erp" migrate

cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
