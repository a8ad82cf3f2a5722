#!/usr/bin/env bash
# etcd-bench.sh — the etcd v3 API benchmark (issue 15): the same Go clientv3
# workloads (bench/etcd/etcdbench.go) against Debian's etcd-server 3.4 and
# chronoconf (Release build, SQLite, durable), in one run on this machine,
# and the ratio of each. Beside each figure, the server's CPU time per
# request (/proc), which does not depend on how much of the cores the client
# takes.
#
# The Range and Put rows are also run against bench/etcd/grpc_floor.cc, a
# gRPC C++ server that answers without doing anything (nothing read, nothing
# stored): what it reaches is the most any server on gRPC C++ can reach here
# with this client, and its CPU per request the least such a server spends.
#
#   bench/etcd-bench.sh                       # SECONDS_EACH=10, WATCHERS=1000
#   CHRONOCONF_BIN=build/chronoconf SECONDS_EACH=5 bench/etcd-bench.sh
#
# Needs etcd-server, golang-go (and Debian's golang-etcd-server-dev for clientv3),
# and the Release build's bench/grpc_floor (FLOOR_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CHRONOCONF_BIN:-build-release/chronoconf}
FLOOR=${FLOOR_BIN:-build-release/bench/grpc_floor}
SECS=${SECONDS_EACH:-10}
WATCHERS=${WATCHERS:-1000}
WORK=$(mktemp -d /tmp/etcd-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime+stime of PID
HZ=$(getconf CLK_TCK)

E=$(free_port) P=$(free_port)
etcd --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$E" \
  --advertise-client-urls "http://127.0.0.1:$E" --listen-peer-urls "http://127.0.0.1:$P" \
  --log-level error >"$WORK/etcd.log" 2>&1 &
EPID=$!; PIDS+=($EPID)
C=$(free_port) H=$(free_port)
"$BIN" serve --store "sqlite:$WORK/events.db" --listen "127.0.0.1:$H" --etcd-listen "127.0.0.1:$C" \
  >"$WORK/chronoconf.log" 2>&1 &
CPID=$!; PIDS+=($CPID)
F=$(free_port)
"$FLOOR" "127.0.0.1:$F" >"$WORK/floor.log" 2>&1 &
FPID=$!; PIDS+=($FPID)
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$H/readyz" >/dev/null && etcdctl --endpoints "127.0.0.1:$E" endpoint health >/dev/null 2>&1 &&
    grep -q serving "$WORK/floor.log" && break
  sleep 0.1
done

export GO111MODULE=off GOPATH=/usr/share/gocode
go build -o "$WORK/etcdbench" bench/etcd/etcdbench.go
# run PID ENDPOINT ARGS...: sets FIG (req/s, or p99 ms) and CPU (the server's
# CPU time per request in µs; "-" for the watch workload)
run() {
  local pid=$1 ep=$2 out c0 c1; shift 2
  c0=$(cpu_ticks "$pid")
  out=$("$WORK/etcdbench" -endpoint "$ep" "$@")
  c1=$(cpu_ticks "$pid")
  echo "$out" >&2
  if [[ $out == watch* ]]; then
    FIG=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$out"); CPU=-
  else
    FIG=$(awk '{print $(NF-1)}' <<<"$out")
    CPU=$(python3 -c "print(f'{($c1 - $c0) / $HZ / ($FIG * $SECS) * 1e6:.1f}')")
  fi
}
printf '%-34s %11s %6s %11s %6s %7s %-8s %11s %6s %7s\n' workload chronoconf 'us/req' etcd \
  'us/req' ratio target floor 'us/req' ratio
# row NAME TARGET FLOOR(yes|no) ARGS...
row() {
  local name=$1 target=$2 floor=$3 c cc e ec f=- fc=- fr=-; shift 3
  run "$CPID" "127.0.0.1:$C" "$@"; c=$FIG cc=$CPU
  run "$EPID" "127.0.0.1:$E" "$@"; e=$FIG ec=$CPU
  if [ "$floor" = yes ]; then
    run "$FPID" "127.0.0.1:$F" "$@"; f=$FIG fc=$CPU
    fr=$(python3 -c "print(f'{$f/$e:.2f}')")
  fi
  printf '%-34s %11s %6s %11s %6s %7s %-8s %11s %6s %7s\n' "$name" "$c" "$cc" "$e" "$ec" \
    "$(python3 -c "print(f'{$c/$e:.2f}')")" "$target" "$f" "$fc" "$fr"
}
row "Put, 64 clients (req/s)" ">= 2 x" yes -workload put -clients 64 -seconds "$SECS"
row "Range one key, 64 clients (req/s)" ">= 5 x" yes -workload range -clients 64 -seconds "$SECS"
row "Range old revision (req/s)" ">= 5 x" yes -workload range-old -versions 1000 -clients 64 -seconds "$SECS"
row "Watch $WATCHERS watchers, p99 ms" "<= 50 ms" no -workload watch -watchers "$WATCHERS" -writes 200
