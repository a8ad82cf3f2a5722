#!/usr/bin/env bash
# run-pg-bench.sh - durable PUT on the PostgreSQL store, one node and two nodes on one database,
# side by side with the peers of ../shared/bench measured in the same run (etcd put, pgbench
# one-row inserts). Issue 6's benchmark; figures go to docs/BENCHMARKS.md.
#
#   pg_put_c64        PUT distinct keys, 64 connections, one node (group-committed transactions)
#   pg_put_c1         the same on 1 connection (latency of one durable write)
#   pg_2nodes_a/_b    two nodes on one database, 32 connections each, at once: combined rate;
#                     conflicts = 409 answers + store-level retries (chronoconf_store_conflicts_total
#                     when present) — distinct keys, so only revision races can conflict
#   peers             ../shared/bench/peer-etcd.sh and peer-postgres.sh (PEERS="" skips them)
# Knobs: DURATION (10) PEERS ("etcd postgres") CHRONOCONF_BIN (build-release/chronoconf if built)
# Every server it starts is stopped by its PID on exit; every wrk has -d and an outer timeout.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
SHARED=${SHARED_BENCH:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd)}
BIN=${CHRONOCONF_BIN:-$REPO/build-release/chronoconf}
[ -x "$BIN" ] || BIN=$REPO/build/chronoconf
DURATION=${DURATION:-10}
PEERS=${PEERS-"etcd postgres"}
WORK=$(mktemp -d /tmp/ccpgbench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  BUILD_DIR=$WORK "$REPO/scripts/pg-test-cluster.sh" stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "$*" >&2; }

PGURL=$(BUILD_DIR=$WORK "$REPO/scripts/pg-test-cluster.sh" start) || { log "no PostgreSQL"; exit 1; }
PORT_A=$((27800 + RANDOM % 100)); PORT_B=$((PORT_A + 1))

serve() {  # serve PORT NODE -> pid on stdout; waits for /readyz
  "$BIN" serve --store "$PGURL" --listen "127.0.0.1:$1" --node "$2" --log-level warn \
    >> "$WORK/server-$2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$1/readyz")" = 200 ] && break
    sleep 0.1
  done
  echo "$pid"
}
wrk_put() {  # wrk_put PORT CONNS PREFIX -> "rps p50 p99 errors"
  timeout $((DURATION + 60)) wrk -t1 -c"$2" -d"${DURATION}s" --timeout 10s --latency \
    -s "$HERE/lua/cc-put.lua" "http://127.0.0.1:$1" "$3" 2>&1 | grep '^WRK ' | tail -1
}
metric_sum() {  # metric_sum PORT NAME : sums every sample of NAME
  curl -sf --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%d", s}'
}

A=$(serve "$PORT_A" node-a); PIDS+=("$A")
log "# chronoconf $("$BIN" --version 2>/dev/null) on $PGURL; $(nproc) cores"
curl -sf -X PUT -H 'Content-Type: application/json' -d '{"value":1}' "http://127.0.0.1:$PORT_A/v1/kv/warm/up" >/dev/null
echo "chronoconf pg_put_c64 $(wrk_put "$PORT_A" 64 bench/pg64/)"
echo "chronoconf pg_put_c1 $(wrk_put "$PORT_A" 1 bench/pg1/)"

B=$(serve "$PORT_B" node-b); PIDS+=("$B")
c0=$(( $(metric_sum "$PORT_A" chronoconf_store_conflicts_total) + $(metric_sum "$PORT_B" chronoconf_store_conflicts_total) ))
( wrk_put "$PORT_A" 32 bench/2a/ > "$WORK/a.txt" ) &
WA=$!
( wrk_put "$PORT_B" 32 bench/2b/ > "$WORK/b.txt" ) &
WB=$!
wait "$WA" "$WB"
c1=$(( $(metric_sum "$PORT_A" chronoconf_store_conflicts_total) + $(metric_sum "$PORT_B" chronoconf_store_conflicts_total) ))
echo "chronoconf pg_2nodes_a $(cat "$WORK/a.txt")"
echo "chronoconf pg_2nodes_b $(cat "$WORK/b.txt")"
ra=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' "$WORK/a.txt"); rb=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' "$WORK/b.txt")
echo "chronoconf pg_2nodes_combined_rps=$(awk -v a="${ra:-0}" -v b="${rb:-0}" 'BEGIN{printf "%.0f", a + b}') store_conflicts=$((c1 - c0))"
ha=$(curl -sf "http://127.0.0.1:$PORT_A/v1/status" | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')
hb=$(curl -sf "http://127.0.0.1:$PORT_B/v1/status?min_revision=$ha" | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')
echo "# heads after the run: node-a $ha, node-b $hb"
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
PIDS=()

for peer in $PEERS; do
  log "# peer $peer"
  DURATION=$DURATION timeout 900 "$SHARED/peer-$peer.sh" 2>>"$WORK/peer.log" | grep -E "put|insert1_c64|insert1_c1 " || true
done
