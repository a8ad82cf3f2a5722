#!/usr/bin/env bash
# bench/etcd_cpu.sh SERVER WORKLOAD: one etcdbench workload (put | range | range-old) with 64
# clients against a fresh server, and the server's CPU time per request (/proc), which does not
# depend on how much of the 2 cores the Go client takes. SERVER is a chronoconf binary (on SQLite,
# default log level), `etcd` (Debian's etcd-server, fresh data dir) or the path of
# bench/etcd/grpc_floor (the gRPC C++ server that does nothing). Prints req/s and µs per request.
# Needs golang-go and golang-etcd-server-dev (as bench/etcd-bench.sh). Not a test.
set -uo pipefail
BIN=$1; W=$2; SECS=${SECS:-4}; GRPC=${GRPC_PORT:-12381}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d); WORK=$OUT
source "$ROOT/bench/lib.sh"
trap 'bench_cleanup; rm -rf "$WORK"' EXIT
(cd "$ROOT" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$WORK/etcdbench" bench/etcd/etcdbench.go) || exit 1
if [ "$BIN" = etcd ]; then
  etcd --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$GRPC" \
    --advertise-client-urls "http://127.0.0.1:$GRPC" --listen-peer-urls "http://127.0.0.1:$((GRPC + 1))" \
    --log-level error > "$WORK/etcd.log" 2>&1 &
  SERVER_PID=$!
elif [[ $(basename "$BIN") == grpc_floor* ]]; then
  "$BIN" "127.0.0.1:$GRPC" > "$WORK/floor.log" 2>&1 &
  SERVER_PID=$!
else
  start_server "sqlite:$WORK/events.db" --etcd-listen "127.0.0.1:$GRPC"
fi
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$GRPC") 2>/dev/null && break; sleep 0.1; done
"$WORK/etcdbench" -endpoint "127.0.0.1:$GRPC" -workload "$W" -clients 64 -seconds 1 > /dev/null
c0=$(cpu_ticks "$SERVER_PID")
out=$("$WORK/etcdbench" -endpoint "127.0.0.1:$GRPC" -workload "$W" -clients 64 -seconds "$SECS")
c1=$(cpu_ticks "$SERVER_PID")
n=$(awk '{print $(NF-1)}' <<< "$out")
echo "$(basename "$BIN") $W: $n req/s, $(( (c1 - c0) * 1000000 / HZ / (n * SECS) )) us of server CPU per request"
