#!/usr/bin/env bash
# supervise NAME CMD...: run CMD in the background and restart it whenever it exits, waiting 1, 2, 4 ... 30 s
# between restarts (back to 1 s after a run of a minute or more); each restart is logged to $LOGS/supervisor.log
# and stderr. TERM or INT stops the command and the loop. The loop's pid is appended to the array `pids`.
# Sourced by run.sh; LOGS must be set.

supervise() {
  local name=$1
  shift
  (
    child=0
    stop() {
      if [[ $child -ne 0 ]]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
      exit 0
    }
    trap stop TERM INT
    delay=1
    while true; do
      started=$SECONDS
      "$@" >>"$LOGS/$name.log" 2>&1 &
      child=$!
      code=0
      wait "$child" || code=$?
      child=0
      ran=$((SECONDS - started))
      if (( ran >= 60 )); then delay=1; fi
      echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $name exited with status $code after ${ran}s; restarting in ${delay}s" \
        | tee -a "$LOGS/supervisor.log" >&2
      sleep "$delay" & child=$!
      wait "$child" || true
      child=0
      delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
    done
  ) &
  pids+=($!)
}
