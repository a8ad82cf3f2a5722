#!/usr/bin/env bash
# run-http-bench.sh - measure chronoconf's HTTP API with wrk, side by side with the peers of
# ../shared/bench (nginx static, etcd, SQLite/fdatasync, PostgreSQL), in ONE session, on 127.0.0.1.
#
# Per run (RUNS times), chronoconf first, then each peer script:
#   memory: store  get_mem          GET /v1/kv/K (K has 2 versions)                 CONNS conns
#                  put_mem_c64      PUT distinct keys (no fsync: CPU/HTTP ceiling)   CONNS conns
#   sqlite: store  put_c64          PUT distinct keys, durable, group-committed      CONNS conns
#                  put_c1           same, 1 connection (latency of one durable write, no batching)
#                  load_history     PUT one key HISTORY times (different values) - builds the history;
#                                   its rate is printed too (same-key PUTs, CONNS conns)
#                  get_sqlite       GET /v1/kv/K (head of K, which now has ~HISTORY versions)
#                  get_past_sqlite  GET /v1/kv/K?at_revision=2 (time travel, K's 2nd version)
#   peers: ../shared/bench/peer-<p>.sh for p in PEERS (they start, load and stop their own servers)
# Before every measurement it waits until no C++ compile runs (`pgrep -c cc1plus` = 0, checked
# every 20 s, at most QUIET_MAX s) and flags a measurement during which one started (cc1plus_seen).
# Output: one line per figure on stdout ("chronoconf put_c64_rps=... p50_ms=... p99_ms=...", the
# peers' lines unchanged), a summary table with ratios at the end; raw files in OUT. Each chronoconf
# line also has server_cores (the server's CPU, in cores, over the run), machine_busy (both cores,
# wrk included), bg_busy (machine busy in the 1 s before the run: other tenants) and cc1plus_seen.
#
# Knobs (env): DURATION (10) CONNS (64) WRK_THREADS (1) WARMUP (2) RUNS (1) HISTORY (100000)
#   PEERS ("nginx etcd sqlite postgres"; "" = chronoconf only) PORT (first free from 27700)
#   QUIET_MAX (1800) OUT (/tmp/ccbench/results-<UTC stamp>) CHRONOCONF_BIN (../build/chronoconf)
#   SHARED_BENCH (../../shared/bench relative to this file) KEEP_TMP=1 (keep the sqlite store)
# Bounded: every wrk has -d and an outer timeout, every peer script an outer `timeout 900`;
# every server this script starts is stopped by its PID (EXIT trap, also on INT/TERM).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
LUA="$HERE/lua"
SHARED=${SHARED_BENCH:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd)}
BIN=${CHRONOCONF_BIN:-$REPO/build/chronoconf}
export DURATION=${DURATION:-10} CONNS=${CONNS:-64} WRK_THREADS=${WRK_THREADS:-1} WARMUP=${WARMUP:-2}
RUNS=${RUNS:-1}
HISTORY=${HISTORY:-100000}
PEERS=${PEERS-"nginx etcd sqlite postgres"}
QUIET_MAX=${QUIET_MAX:-1800}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-/tmp/ccbench/results-$STAMP}

mkdir -p "$OUT" || exit 1
WORK=$(mktemp -d /tmp/ccbench/run.XXXXXX) || exit 1
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"   # log, start_server, measure, warmup, load_history, run_peer, ...

cleanup() {
  local rc=$?
  bench_cleanup
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "# kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in wrk curl; do command -v $b >/dev/null || { [ -n "$SHARED" ] && "$SHARED/peers-setup.sh" >&2; break; }; done
command -v wrk >/dev/null || { echo "wrk missing (apt-get install -y wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no chronoconf binary at $BIN (build it first)" >&2; exit 1; }
if [ -n "$PEERS" ] && [ ! -d "$SHARED" ]; then echo "no shared bench at $SHARED" >&2; exit 1; fi

machine_info "DURATION=$DURATION CONNS=$CONNS WRK_THREADS=$WRK_THREADS WARMUP=$WARMUP RUNS=$RUNS HISTORY=$HISTORY PEERS='$PEERS' PORT=$PORT" \
  | tee "$OUT/system.txt" >&2

: > "$OUT/results.txt"
for RUN in $(seq 1 "$RUNS"); do
  log "== run $RUN ($(date -u +%H:%M:%S) UTC, loadavg $(cut -d' ' -f1-3 /proc/loadavg))"

  # ---------- chronoconf, memory: store ----------
  start_server memory:
  put "$KEY" "$VAL1" >/dev/null && put "$KEY" "$VAL2" >/dev/null || { log "PUT failed"; exit 1; }
  log "# check GET: $(curl -s "$URL/v1/kv/$KEY")"
  warmup "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY"
  measure get_mem "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY"
  warmup "$CONNS" "$LUA/cc-put.lua" "$URL" -- warm/
  k0=$(status_field keys)
  measure put_mem_c64 "$CONNS" "$LUA/cc-put.lua" "$URL" -- bench/put/
  log "# check put_mem_c64: keys added $(( $(status_field keys) - k0 )), wrk requests $(kv requests "$WRK_LINE")"
  stop_server

  # ---------- chronoconf, sqlite: store (durable, WAL + synchronous=FULL, group commit) ----------
  DB="$WORK/events-run$RUN.db"
  rm -f "$DB" "$DB-wal" "$DB-shm"
  start_server "sqlite:$DB"
  r1=$(put "$KEY" "$VAL1" | sed -n 's/^{"revision":\([0-9]*\).*/\1/p')
  r2=$(put "$KEY" "$VAL2" | sed -n 's/^{"revision":\([0-9]*\).*/\1/p')
  [ "$r1" = 1 ] && [ "$r2" = 2 ] || { log "expected revisions 1 and 2 for the first writes, got '$r1' '$r2'"; exit 1; }
  warmup "$CONNS" "$LUA/cc-put.lua" "$URL" -- warm/
  k0=$(status_field keys); tx_mark
  measure put_c64 "$CONNS" "$LUA/cc-put.lua" "$URL" -- bench/put/
  tx_report put_c64
  log "# check put_c64: keys added $(( $(status_field keys) - k0 )), wrk requests $(kv requests "$WRK_LINE") (may exceed by in-flight at cutoff)"
  k0=$(status_field keys); tx_mark
  measure put_c1 1 "$LUA/cc-put.lua" "$URL" -- bench/put1/
  tx_report put_c1
  log "# check put_c1: keys added $(( $(status_field keys) - k0 )), wrk requests $(kv requests "$WRK_LINE")"

  load_history load_history "$KEY" "$HISTORY" "$CONNS"
  head_rev=$(status_field revision)
  past=$(curl -s "$URL/v1/kv/$KEY?at_revision=2")
  echo "$past" | grep -q "\"value\":$VAL2,\"version\":2," || { log "time travel returned '$past', expected version 2 = $VAL2"; exit 1; }
  log "# check at_revision=2: $past"

  warmup "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY"
  measure get_sqlite "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY"
  measure get_past_sqlite "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY?at_revision=2"
  log "# server RSS with $head_rev commits: $(awk '/VmRSS/{print $2, $3}' /proc/$SERVER_PID/status)"
  stop_server
  log "# store on disk: $(du -sh "$DB"* 2>/dev/null | tr '\n' ' ')"
  rm -f "$DB" "$DB-wal" "$DB-shm"

  # ---------- peers (same run, same machine) ----------
  for p in $PEERS; do run_peer "$p"; done
done

# ---------- summary: per test, each run's rate / p50 / p99, then ratios of the run means ----------
awk '
{
  run = substr($1, 5) + 0; peer = $2
  split($3, a, "="); metric = a[1]
  name = metric; sub(/_(rps|tps|ops)$/, "", name)
  key = peer " " name
  if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
  rate[key, run] = a[2]; sum[key] += a[2]; cnt[key]++
  for (i = 4; i <= NF; i++) { split($i, b, "="); f[key, run, b[1]] = b[2] }
  if (run > maxrun) maxrun = run
}
function mean(k) { return cnt[k] ? sum[k] / cnt[k] : 0 }
function ratio(label, a, b) { if (mean(a) > 0 && mean(b) > 0) printf "ratio %-46s %6.2f  (%.0f / %.0f)\n", label, mean(a) / mean(b), mean(a), mean(b) }
END {
  printf "%-11s %-20s", "peer", "test"
  for (r = 1; r <= maxrun; r++) printf " | %10s %7s %7s", "run" r, "p50ms", "p99ms"
  printf "\n"
  for (k = 1; k <= nk; k++) {
    key = order[k]; split(key, pn, " ")
    printf "%-11s %-20s", pn[1], pn[2]
    for (r = 1; r <= maxrun; r++)
      printf " | %10s %7s %7s", ((key, r) in rate) ? rate[key, r] : "n/a", \
        ((key, r, "p50_ms") in f) ? f[key, r, "p50_ms"] : "-", ((key, r, "p99_ms") in f) ? f[key, r, "p99_ms"] : "-"
    printf "\n"
  }
  print ""
  ratio("get_mem / nginx get_w1", "chronoconf get_mem", "nginx get_w1")
  ratio("get_mem / nginx get_w2", "chronoconf get_mem", "nginx get_w2")
  ratio("get_mem / etcd get", "chronoconf get_mem", "etcd get")
  ratio("get_sqlite / etcd get", "chronoconf get_sqlite", "etcd get")
  ratio("get_past_sqlite / etcd get_past", "chronoconf get_past_sqlite", "etcd get_past")
  ratio("get_past_sqlite / get_sqlite", "chronoconf get_past_sqlite", "chronoconf get_sqlite")
  ratio("put_c64 / etcd put", "chronoconf put_c64", "etcd put")
  ratio("put_c64 / sqlite wal_full_tx1", "chronoconf put_c64", "sqlite wal_full_tx1")
  ratio("put_c64 / disk fdatasync_overwrite", "chronoconf put_c64", "disk fdatasync_overwrite")
  ratio("put_c64 / postgres insert1_c64", "chronoconf put_c64", "postgres insert1_c64")
  ratio("put_c64 / put_mem_c64", "chronoconf put_c64", "chronoconf put_mem_c64")
  ratio("put_c1 / sqlite wal_full_tx1", "chronoconf put_c1", "sqlite wal_full_tx1")
  ratio("put_c1 / postgres insert1_c1", "chronoconf put_c1", "postgres insert1_c1")
}' "$OUT/results.txt" | tee "$OUT/summary.txt"
log "# raw output: $OUT"
