#!/usr/bin/env bash
# bench/etcd_cpu.sh BIN WORKLOAD: one etcdbench workload (put | range | range-old) with 64 clients
# against a fresh chronoconf on SQLite (default log level); prints req/s and the server's CPU time
# per request (/proc), which does not depend on how much of the 2 cores the Go client takes.
# Needs golang-go and golang-etcd-server-dev (as bench/etcd-bench.sh). Not a test.
set -uo pipefail
BIN=$1; W=$2; SECS=${SECS:-4}; HTTP=${HTTP_PORT:-18181}; GRPC=${GRPC_PORT:-12381}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d)
(cd "$ROOT" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$DIR/etcdbench" bench/etcd/etcdbench.go) || exit 1
"$BIN" serve --store "sqlite:$DIR/events.db" --listen "127.0.0.1:$HTTP" \
  --etcd-listen "127.0.0.1:$GRPC" > "$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2> /dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do curl -sf "127.0.0.1:$HTTP/readyz" > /dev/null && break; sleep 0.1; done
"$DIR/etcdbench" -endpoint "127.0.0.1:$GRPC" -workload "$W" -clients 64 -seconds 1 > /dev/null
TCK=$(getconf CLK_TCK)
c0=$(awk '{print $14+$15}' "/proc/$PID/stat")
out=$("$DIR/etcdbench" -endpoint "127.0.0.1:$GRPC" -workload "$W" -clients 64 -seconds "$SECS")
c1=$(awk '{print $14+$15}' "/proc/$PID/stat")
n=$(awk '{print $(NF-1)}' <<< "$out")
echo "$(basename "$BIN") $W: $n req/s, $(( (c1 - c0) * 1000000 / TCK / (n * SECS) )) us of server CPU per request"
