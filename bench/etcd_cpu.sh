#!/usr/bin/env bash
# bench/etcd_cpu.sh BIN WORKLOAD: one etcdbench workload (put | range | range-old) with 64 clients
# against a fresh chronoconf on SQLite (default log level); prints req/s and the server's CPU time
# per request (/proc), which does not depend on how much of the 2 cores the Go client takes.
# Needs golang-go and golang-etcd-server-dev (as bench/etcd-bench.sh). Not a test.
set -uo pipefail
BIN=$1; W=$2; SECS=${SECS:-4}; GRPC=${GRPC_PORT:-12381}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d); WORK=$OUT
source "$ROOT/bench/lib.sh"
trap 'bench_cleanup; rm -rf "$WORK"' EXIT
(cd "$ROOT" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$WORK/etcdbench" bench/etcd/etcdbench.go) || exit 1
start_server "sqlite:$WORK/events.db" --etcd-listen "127.0.0.1:$GRPC"
"$WORK/etcdbench" -endpoint "127.0.0.1:$GRPC" -workload "$W" -clients 64 -seconds 1 > /dev/null
c0=$(cpu_ticks "$SERVER_PID")
out=$("$WORK/etcdbench" -endpoint "127.0.0.1:$GRPC" -workload "$W" -clients 64 -seconds "$SECS")
c1=$(cpu_ticks "$SERVER_PID")
n=$(awk '{print $(NF-1)}' <<< "$out")
echo "$(basename "$BIN") $W: $n req/s, $(( (c1 - c0) * 1000000 / HZ / (n * SECS) )) us of server CPU per request"
