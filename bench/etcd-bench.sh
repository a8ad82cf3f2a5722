#!/usr/bin/env bash
# etcd-bench.sh — the etcd v3 API benchmark (issue 15): the same Go clientv3
# workloads (bench/etcd/etcdbench.go) against Debian's etcd-server 3.4 and
# chronoconf (Release build, SQLite, durable), in one run on this machine,
# and the ratio of each. Not a timed test: run it by hand.
#
#   bench/etcd-bench.sh                       # SECONDS_EACH=10, WATCHERS=1000
#   CHRONOCONF_BIN=build/chronoconf SECONDS_EACH=5 bench/etcd-bench.sh
#
# Needs etcd-server, golang-go (and Debian's golang-etcd-server-dev for clientv3).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CHRONOCONF_BIN:-build-release/chronoconf}
SECS=${SECONDS_EACH:-10}
WATCHERS=${WATCHERS:-1000}
WORK=$(mktemp -d /tmp/etcd-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

E=$(free_port) P=$(free_port)
etcd --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$E" \
  --advertise-client-urls "http://127.0.0.1:$E" --listen-peer-urls "http://127.0.0.1:$P" \
  --log-level error >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)
C=$(free_port) H=$(free_port)
"$BIN" serve --store "sqlite:$WORK/events.db" --listen "127.0.0.1:$H" --etcd-listen "127.0.0.1:$C" \
  >"$WORK/chronoconf.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$H/readyz" >/dev/null && etcdctl --endpoints "127.0.0.1:$E" endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done

export GO111MODULE=off GOPATH=/usr/share/gocode
go build -o "$WORK/etcdbench" bench/etcd/etcdbench.go
run() {  # run ENDPOINT ARGS...: the figure etcdbench prints (req/s, or p99 ms)
  local out; out=$("$WORK/etcdbench" -endpoint "$1" "${@:2}")
  echo "$out" >&2
  if [[ $out == watch* ]]; then sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$out"; else awk '{print $(NF-1)}' <<<"$out"; fi
}
printf '%-34s %12s %12s %8s %s\n' workload chronoconf etcd ratio target
row() {  # row NAME TARGET ARGS...
  local name=$1 target=$2; shift 2
  local c e; c=$(run "127.0.0.1:$C" "$@"); e=$(run "127.0.0.1:$E" "$@")
  printf '%-34s %12s %12s %8s %s\n' "$name" "$c" "$e" "$(python3 -c "print(f'{$c/$e:.2f}')")" "$target"
}
row "Put, 64 clients (req/s)" ">= 2 x" -workload put -clients 64 -seconds "$SECS"
row "Range one key, 64 clients (req/s)" ">= 5 x" -workload range -clients 64 -seconds "$SECS"
row "Range old revision (req/s)" ">= 5 x" -workload range-old -versions 1000 -clients 64 -seconds "$SECS"
row "Watch $WATCHERS watchers, p99 ms" "<= 50 ms" -workload watch -watchers "$WATCHERS" -writes 200
