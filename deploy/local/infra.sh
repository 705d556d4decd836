#!/usr/bin/env bash
# PostgreSQL + Kafka for a local run or a test run, on loopback.
#   infra.sh up|down|status|env
# Knobs: LOCAL_DIR, PG_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT (see postgres.sh and kafka.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.local/venv}"
: "${PG_PORT:=54329}" "${KAFKA_PORT:=19092}" "${CRM_DB:=crm}" "${ERP_DB:=erp}"
export PG_PORT KAFKA_PORT

env_lines() {
  echo "export CRM_DATABASE_URL=$("$HERE/postgres.sh" url "$CRM_DB")"
  echo "export ERP_DATABASE_URL=$("$HERE/postgres.sh" url "$ERP_DB")"
  echo "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT"
}

case "${1:-}" in
  up)
    "$HERE/postgres.sh" start
    "$HERE/postgres.sh" createdb "$CRM_DB" "$ERP_DB"
    "$HERE/kafka.sh" start
    KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" "$VENV/bin/python" -m shared_events.topics
    ;;
  down)
    "$HERE/kafka.sh" stop
    "$HERE/postgres.sh" stop
    ;;
  status)
    "$HERE/postgres.sh" status || true
    "$HERE/kafka.sh" status || true
    ;;
  env) env_lines ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
