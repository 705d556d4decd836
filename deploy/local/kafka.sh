#!/usr/bin/env bash
# Local single-node Apache Kafka 3.9.1 (KRaft: broker and controller in one JVM), run from the
# jars Maven fetches (deploy/local/pom.xml). No Docker, no tarball. Loopback only.
#
#   kafka.sh fetch|start|stop|status|reset
#
# `start` keeps the data of an earlier start (a restart loses nothing); `reset` wipes it.
# Knobs: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_HOST (127.0.0.1),
#        KAFKA_DIR ($LOCAL_DIR/kafka), KAFKA_LIB (.local/kafka-lib), KAFKA_HEAP_OPTS, KAFKA_JVM_OPTS,
#        KAFKA_START_TIMEOUT
#
# Memory: a small single-node broker (the project's topics, a few thousand events a second) has a live heap of
# about 45 MB once the log cleaner's key map is sized to it (log.cleaner.dedupe.buffer.size below: 128 MB of heap
# by default, allocated at start-up, which alone was most of the broker's heap). The defaults below keep the
# whole JVM under 300 MB of RSS in `make bench` (create bursts, a 50,000-event drain, an import of 100,000
# parties) without GC thrash (bench.sh prints the broker's peak RSS and GC time). What they bound: the heap
# (-Xmx128m, G1 with a 20 ms pause goal, starting at 32 MB), class metadata and JIT code (-XX:MaxMetaspaceSize,
# -XX:ReservedCodeCacheSize), NIO's per-thread cache of temporary direct buffers (jdk.nio.maxCachedBufferSize:
# by default each thread keeps one as large as its largest write), direct memory, thread stacks, and glibc's
# malloc arenas (MALLOC_ARENA_MAX: up to 8 per core otherwise). A larger broker sets KAFKA_HEAP_OPTS and
# KAFKA_JVM_OPTS itself.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local/run}"
LIB="${KAFKA_LIB:-$ROOT/.local/kafka-lib}"
WORK="${KAFKA_DIR:-$LOCAL_DIR/kafka}"
HOST="${KAFKA_HOST:-127.0.0.1}"
PORT="${KAFKA_PORT:-19092}"
CPORT="${KAFKA_CONTROLLER_PORT:-19093}"
HEAP="${KAFKA_HEAP_OPTS:--Xms32m -Xmx128m}"
JVM_OPTS="${KAFKA_JVM_OPTS:--XX:MaxMetaspaceSize=96m -XX:ReservedCodeCacheSize=64m -XX:MaxDirectMemorySize=64m -Xss512k -Djdk.nio.maxCachedBufferSize=262144}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
PIDFILE="$WORK/kafka.pid"
OUT="$WORK/logs/kafka.out"

die() { echo "kafka.sh: $*" >&2; exit 1; }

jvm_opts() {
  echo "$HEAP $JVM_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35" \
       "-XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true" \
       "-Dkafka.logs.dir=$WORK/logs -Dlog4j.configuration=file:$HERE/log4j.properties"
}

fetch() {
  ls "$LIB"/kafka_2.13-3.9.1.jar >/dev/null 2>&1 && return 0
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Kafka jars)"
  command -v java >/dev/null || die "java not found"
  echo "kafka.sh: fetching Kafka jars with Maven into $LIB" >&2
  mvn -B -q -f "$HERE/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB"
  ls "$LIB"/kafka_2.13-3.9.1.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $LIB"
}

cluster_id() {
  python3 -c 'import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s); break'
}

write_config() {
  mkdir -p "$WORK/data" "$WORK/logs"
  cat > "$WORK/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$WORK/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.backoff.ms=5000
# the cleaner of compacted topics (__consumer_offsets) allocates its key map on the heap at start-up: 128 MB by
# default, more than this broker's whole working set; 16 MB maps ~700,000 keys a pass, far more than it has
log.cleaner.dedupe.buffer.size=16777216
CONF
}

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# Ready means a metadata request answers, not merely an open port.
answers() {
  python3 - "$HOST:$PORT" <<'PY' >/dev/null 2>&1
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
# ApiVersions v0 request: a broker that answers it is serving requests.
client = b"ready-check"
body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
s = socket.create_connection((host, int(port)), timeout=2)
s.sendall(struct.pack(">i", len(body)) + body)
size = struct.unpack(">i", s.recv(4))[0]
data = b""
while len(data) < size:
    chunk = s.recv(size - len(data))
    if not chunk:
        raise SystemExit(1)
    data += chunk
corr, err = struct.unpack(">ih", data[:6])
raise SystemExit(0 if corr == 1 and err == 0 else 1)
PY
}

start() {
  fetch
  if running; then echo "kafka already running (pid $(cat "$PIDFILE"))"; return 0; fi
  mkdir -p "$WORK/logs"
  write_config
  if [[ ! -f "$WORK/data/meta.properties" ]]; then
    # shellcheck disable=SC2046
    java $(jvm_opts) -cp "$LIB/*" kafka.tools.StorageTool format \
        -t "$(cluster_id)" -c "$WORK/server.properties" >>"$OUT" 2>&1 \
      || { tail -n 50 "$OUT" >&2; die "storage format failed"; }
  fi
  local mark; mark=$(wc -l <"$OUT" 2>/dev/null || echo 0)
  # shellcheck disable=SC2046
  nohup java $(jvm_opts) -cp "$LIB/*" kafka.Kafka "$WORK/server.properties" >>"$OUT" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until tail -n +"$((mark + 1))" "$OUT" | grep -q "Kafka Server started" && answers; do
    running || { tail -n 80 "$OUT" >&2; die "broker exited during startup"; }
    (( SECONDS < deadline )) || { tail -n 80 "$OUT" >&2; stop; die "not ready after ${START_TIMEOUT}s"; }
    sleep 0.5
  done
  echo "kafka ready at $HOST:$PORT (pid $(cat "$PIDFILE"), log $OUT)"
}

stop() {
  running || { rm -f "$PIDFILE"; return 0; }
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  reset) stop; rm -rf "$WORK/data" "$WORK/logs" ;;
  status) if running && answers; then echo "kafka running on $HOST:$PORT"; else echo "kafka stopped"; exit 1; fi ;;
  *) echo "usage: $0 fetch|start|stop|status|reset" >&2; exit 2 ;;
esac
