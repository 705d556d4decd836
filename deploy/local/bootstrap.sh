#!/usr/bin/env bash
# Installs what `make run` and `make test` need and is missing: Java and Maven (for the Kafka jars),
# Python's venv, then the project's pinned Python packages into .local/venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.local/venv}"
PYTHON="${PYTHON:-python3}"

apt_install() {
  [[ $(id -u) -eq 0 ]] || { echo "bootstrap: please install: $*" >&2; exit 1; }
  if [[ -z "${_APT_UPDATED:-}" ]]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v java >/dev/null || apt_install openjdk-17-jre-headless
command -v mvn >/dev/null || apt_install maven
command -v psql >/dev/null || apt_install postgresql-client
command -v curl >/dev/null || apt_install curl  # make run waits for each process to answer
# a real compose implementation validates docker-compose.yml in the tests (no Docker engine needed)
command -v docker-compose >/dev/null || apt_install docker-compose
# hledger reads the ledger export back in the tests: an independent check of the books
command -v hledger >/dev/null || apt_install hledger
# khal reads the agenda's exported calendar back in the tests: an independent RFC 5545 reader
command -v khal >/dev/null || apt_install khal
# a real IMAP server (Dovecot, run unprivileged on a loopback port) for the CRM mailbox's fetch tests
[[ -x /usr/sbin/dovecot ]] || apt_install dovecot-imapd
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "bootstrap: Python 3.11+ needed" >&2; exit 1; }
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; "$PYTHON" -m venv "$VENV"; }
fi
"$VENV/bin/pip" install -q --disable-pip-version-check \
  -e "$ROOT/shared/events" -e "$ROOT/shared/servicekit" -e "$ROOT/services/crm" -e "$ROOT/services/erp" \
  -e "$ROOT[dev]"
"$ROOT/deploy/local/kafka.sh" fetch
