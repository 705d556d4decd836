#!/usr/bin/env bash
# `make run`: PostgreSQL and Kafka on loopback, migrations, then CRM and ERP (web + worker each).
# A process that dies is restarted with growing delays (supervise.sh); Ctrl-C stops everything it started.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=supervise.sh
source "$HERE/supervise.sh"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.local/venv}"
INFRA="${INFRA:-$HERE/infra.sh}"  # what starts and stops PostgreSQL and Kafka (tests put a stand-in here)
export LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local/run}"
export CRM_BIND="${CRM_BIND:-127.0.0.1:8010}" ERP_BIND="${ERP_BIND:-127.0.0.1:8020}"
export CRM_PUBLIC_URL="${CRM_PUBLIC_URL:-http://$CRM_BIND}" ERP_PUBLIC_URL="${ERP_PUBLIC_URL:-http://$ERP_BIND}"
# the CRM worker's inbound mail door (ticket mail, campaign bounces): point a mail server's LMTP delivery at it
export CRM_LMTP_PORT="${CRM_LMTP_PORT:-8025}"
LOGS="$LOCAL_DIR/logs"
mkdir -p "$LOGS"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  "$INFRA" down
  echo "stopped."
  exit 0  # a trap handler returns to the interrupted loop otherwise
}
trap stop_all INT TERM EXIT

"$INFRA" up
eval "$("$INFRA" env)"
"$VENV/bin/crm" migrate
"$VENV/bin/erp" migrate

for proc in "crm web" "crm worker" "erp web" "erp worker"; do
  # shellcheck disable=SC2086
  supervise "${proc// /-}" "$VENV/bin/"$proc
done

wait_http() {
  local url=$1 deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    (( SECONDS < deadline )) || { echo "not answering: $url (see $LOGS)" >&2; return 1; }
    sleep 0.3
  done
}
wait_http "http://$CRM_BIND/readyz"
wait_http "http://$ERP_BIND/readyz"
wait_http "http://127.0.0.1:${CRM_WORKER_HEALTH_PORT:-8011}/readyz"
wait_http "http://127.0.0.1:${ERP_WORKER_HEALTH_PORT:-8021}/readyz"

cat <<MSG

  CRM  API  http://$CRM_BIND/api/v1      docs http://$CRM_BIND/docs
  ERP  API  http://$ERP_BIND/api/v1      docs http://$ERP_BIND/docs
  workers   http://127.0.0.1:${CRM_WORKER_HEALTH_PORT:-8011}/readyz  http://127.0.0.1:${ERP_WORKER_HEALTH_PORT:-8021}/readyz
  Kafka     127.0.0.1:${KAFKA_PORT:-19092}    PostgreSQL 127.0.0.1:${PG_PORT:-54329} (databases crm, erp)
  mail in   LMTP 127.0.0.1:$CRM_LMTP_PORT (support@crm.localhost becomes tickets; docs/crm.md, ticket mail)
  logs      $LOGS

  First administrator (once per service; prompts for a password):
       $VENV/bin/crm create-admin --email you@example.com
       $VENV/bin/erp create-admin --email you@example.com
  (the environment for those commands: eval "\$(deploy/local/infra.sh env)")

  Then: TOKEN=\$(curl -s -XPOST http://$CRM_BIND/api/v1/auth/login -H 'content-type: application/json' \\
                  -d '{"email":"you@example.com","password":"..."}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
        curl -s -XPOST http://$CRM_BIND/api/v1/parties -H "Authorization: Bearer \$TOKEN" \\
             -H 'content-type: application/json' -d '{"kind":"company","legal_name":"Acme SA","roles":["customer"]}'
  or paste the token into "Authorize" in /docs.

  A process that exits is restarted (see $LOGS/supervisor.log). Ctrl-C stops everything.
MSG
while true; do sleep 5; done
