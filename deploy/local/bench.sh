#!/usr/bin/env bash
# `make bench`: a fresh PostgreSQL + Kafka on bench ports, the CRM web (gunicorn) and both workers,
# then bench/run.py prints throughput and propagation figures beside raw baselines.
# Stops everything it started on exit. Extra arguments go to bench/run.py (see its --help).
#
# Knobs: BENCH_PG_PORT (54349), BENCH_KAFKA_PORT (19292), BENCH_KAFKA_CONTROLLER_PORT (19293),
#        BENCH_CRM_BIND (127.0.0.1:18310), BENCH_CRM_WEB_WORKERS (4),
#        BENCH_CRM_WORKER_HEALTH_PORT (18311), BENCH_ERP_WORKER_HEALTH_PORT (18321), BENCH_LOCAL_DIR,
#        and run.py's BENCH_CONCURRENCY, BENCH_REQUESTS, BENCH_PARTIES, BENCH_ROUNDTRIPS; backbone.py's
#        BENCH_BACKLOG (50000: the relay and consumer backlogs); imports.py's BENCH_IMPORT_ROWS (100000);
#        BENCH_SCRIPTS (run backbone imports: which of bench/*.py to run).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.local/venv}"
export LOCAL_DIR="${BENCH_LOCAL_DIR:-$ROOT/.local/bench}"
export PG_PORT="${BENCH_PG_PORT:-54349}"
export KAFKA_PORT="${BENCH_KAFKA_PORT:-19292}"
export KAFKA_CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-19293}"
export CRM_BIND="${BENCH_CRM_BIND:-127.0.0.1:18310}"
export CRM_WEB_WORKERS="${BENCH_CRM_WEB_WORKERS:-4}"
export CRM_WORKER_HEALTH_HOST=127.0.0.1 ERP_WORKER_HEALTH_HOST=127.0.0.1
export CRM_WORKER_HEALTH_PORT="${BENCH_CRM_WORKER_HEALTH_PORT:-18311}"
export ERP_WORKER_HEALTH_PORT="${BENCH_ERP_WORKER_HEALTH_PORT:-18321}"
export CRM_PUBLIC_URL="http://$CRM_BIND"
SCRATCH_DB=bench_scratch
LOGS="$LOCAL_DIR/logs"

pids=()
cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$HERE/infra.sh" down >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Something already listening on a bench port would answer /readyz in place of what we start.
port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
for addr in "$CRM_BIND" "127.0.0.1:$CRM_WORKER_HEALTH_PORT" "127.0.0.1:$ERP_WORKER_HEALTH_PORT"; do
  if port_busy "$addr"; then echo "bench.sh: $addr is already in use (a bench still running?)" >&2; exit 1; fi
done

rm -rf "$LOGS"
mkdir -p "$LOGS"
"$HERE/kafka.sh" reset
"$HERE/postgres.sh" start
for db in crm erp "$SCRATCH_DB"; do
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "drop database if exists $db with (force)"
done
"$HERE/infra.sh" up
"$HERE/postgres.sh" createdb "$SCRATCH_DB"
eval "$("$HERE/infra.sh" env)"
export BENCH_SCRATCH_DATABASE_URL
BENCH_SCRATCH_DATABASE_URL="$("$HERE/postgres.sh" url "$SCRATCH_DB")"
"$VENV/bin/crm" migrate
"$VENV/bin/erp" migrate
# When the CRM has access control, the bench logs in as an administrator created here.
if "$VENV/bin/crm" --help 2>/dev/null | grep -q create-admin; then
  export BENCH_ADMIN_EMAIL="bench@example.com"
  BENCH_ADMIN_PASSWORD="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  export BENCH_ADMIN_PASSWORD
  ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" "$VENV/bin/crm" create-admin --email "$BENCH_ADMIN_EMAIL" --name Bench
fi

for proc in "crm web" "crm worker" "erp worker"; do
  # shellcheck disable=SC2086
  "$VENV/bin/"$proc >"$LOGS/${proc// /-}.log" 2>&1 &
  pids+=($!)
done

wait_http() {
  local url=$1 deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    (( SECONDS < deadline )) || { echo "bench.sh: not answering: $url (see $LOGS)" >&2; return 1; }
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "bench.sh: a process exited; see $LOGS" >&2; return 1; }
    done
    sleep 0.3
  done
}
wait_http "http://$CRM_BIND/readyz"
wait_http "http://127.0.0.1:$CRM_WORKER_HEALTH_PORT/readyz"
wait_http "http://127.0.0.1:$ERP_WORKER_HEALTH_PORT/readyz"

export CRM_URL="http://$CRM_BIND"
# process trees whose CPU time run.py reports
BENCH_PROCS="crm-web=${pids[0]} crm-worker=${pids[1]} erp-worker=${pids[2]}"
BENCH_PROCS+=" postgres=$(head -n 1 "$LOCAL_DIR/pg/data/postmaster.pid") kafka=$(cat "$LOCAL_DIR/kafka/kafka.pid")"
export BENCH_PROCS
export WORKER_HEALTH_URLS="http://127.0.0.1:$CRM_WORKER_HEALTH_PORT/healthz http://127.0.0.1:$ERP_WORKER_HEALTH_PORT/healthz"
cd "$ROOT"
# BENCH_SCRIPTS picks some of them (e.g. "imports" alone); arguments go to run.py
for script in ${BENCH_SCRIPTS:-run backbone imports}; do
  if [ "$script" = run ]; then "$VENV/bin/python" bench/run.py "$@"; else "$VENV/bin/python" "bench/$script.py"; fi
done
# the broker over the whole run: peak RSS and GC time (the issue's 300 MB bound applies to it too)
"$VENV/bin/python" bench/jvm.py "$(cat "$LOCAL_DIR/kafka/kafka.pid")" || true
echo "service logs: $LOGS"
