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
KEY=config/checkout/new-pricing
VAL1='{"enabled":false,"rollout":0}'
VAL2='{"enabled":true,"rollout":25}'

mkdir -p "$OUT" || exit 1
WORK=$(mktemp -d /tmp/ccbench/run.XXXXXX) || exit 1
SERVER_PID=""
MON_PID=""

log() { echo "$*" >&2; echo "$*" >> "$OUT/log.txt"; }

stop_pid() {  # stop_pid PID : TERM, wait up to 10 s, then KILL; only the PID given
  local p=$1
  [ -n "$p" ] || return 0
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$MON_PID"; MON_PID=""
  stop_pid "$SERVER_PID"; SERVER_PID=""
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "# kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in wrk curl; do command -v $b >/dev/null || { [ -n "$SHARED" ] && "$SHARED/peers-setup.sh" >&2; break; }; done
command -v wrk >/dev/null || { echo "wrk missing (apt-get install -y wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no chronoconf binary at $BIN (build it first)" >&2; exit 1; }
if [ -n "$PEERS" ] && [ ! -d "$SHARED" ]; then echo "no shared bench at $SHARED" >&2; exit 1; fi

port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
if [ -z "${PORT:-}" ]; then
  PORT=27700
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
fi
URL="http://127.0.0.1:$PORT"

# --- machine info --------------------------------------------------------------------------
{
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host_kernel=$(uname -r) cpus=$(nproc) cpu='$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')' mem_gib=$(free -g | awk '/Mem:/{print $2}')"
  echo "disk_for_tmp='$(df --output=source,fstype /tmp | tail -1 | tr -s ' ')'"
  echo "wrk='$(wrk -v 2>&1 | head -1 | cut -c1-40)' git=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo +dirty)"
  echo "chronoconf_bin=$BIN mtime='$(stat -c %y "$BIN" | cut -c1-19)' sha256=$(sha256sum "$BIN" | cut -c1-16)"
  echo "knobs: DURATION=$DURATION CONNS=$CONNS WRK_THREADS=$WRK_THREADS WARMUP=$WARMUP RUNS=$RUNS HISTORY=$HISTORY PEERS='$PEERS' PORT=$PORT"
} | tee "$OUT/system.txt" >&2

# --- helpers -------------------------------------------------------------------------------
wait_quiet() {  # wait until no cc1plus runs (every 20 s, at most QUIET_MAX s)
  local waited=0 n
  while n=$(pgrep -c cc1plus); [ "${n:-0}" -gt 0 ]; do
    if [ "$waited" -ge "$QUIET_MAX" ]; then log "# $n cc1plus still running after ${waited}s: measuring anyway"; return 0; fi
    [ "$waited" -eq 0 ] && log "# waiting for $n cc1plus to finish ($(date -u +%H:%M:%S))"
    sleep 20; waited=$((waited + 20))
  done
  [ "$waited" -gt 0 ] && log "# quiet after ${waited}s"
  return 0
}

# Monitor during a measurement: max number of cc1plus seen (sampled every 0.5 s).
mon_start() {
  : > "$WORK/mon"
  ( while :; do pgrep -c cc1plus >> "$WORK/mon"; sleep 0.5; done ) &
  MON_PID=$!
}
mon_stop() {  # -> CC_SEEN
  stop_pid "$MON_PID"; MON_PID=""
  CC_SEEN=$(sort -n "$WORK/mon" | tail -1); CC_SEEN=${CC_SEEN:-0}
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }     # utime+stime of PID
sys_ticks() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, $5 + $6}' /proc/stat; }  # total idle
HZ=$(getconf CLK_TCK)

start_server() {  # start_server STORE_URL : sets SERVER_PID, waits for /readyz
  log "+ $BIN serve --store $1 --listen 127.0.0.1:$PORT --log-level warn"
  "$BIN" serve --store "$1" --listen "127.0.0.1:$PORT" --log-level warn >> "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$URL/readyz")" = 200 ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "server did not become ready on $URL"; tail -5 "$WORK/server.log" >&2; exit 1
}
stop_server() { stop_pid "$SERVER_PID"; SERVER_PID=""; }

put() {  # put KEY JSON -> prints the response body, fails on non-2xx
  curl -sf --max-time 10 -X PUT -H 'Content-Type: application/json' -d "{\"value\":$2}" "$URL/v1/kv/$1"
}
status_field() { curl -sf --max-time 10 "$URL/v1/status" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
kv() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
metric() { curl -sf --max-time 10 "$URL/metrics" | awk -v m="$1" '$1 == m {printf "%d", $2}'; }  # metric NAME (unlabelled)
tx_mark() { TX0=$(metric chronoconf_store_transactions_total); CM0=$(metric chronoconf_commits_total); }
tx_report() {  # commits per store transaction (= per fsync) since tx_mark: the group-commit batch size
  local tx cm; tx=$(( $(metric chronoconf_store_transactions_total) - TX0 )); cm=$(( $(metric chronoconf_commits_total) - CM0 ))
  log "# group commit $1: $cm commits in $tx store transactions = $(awk -v c="$cm" -v t="$tx" 'BEGIN{printf "%.1f", (t > 0 ? c / t : 0)}') commits per fsync"
}

# measure NAME CONNS LUA [wrk args...] : wait for quiet, run wrk -d DURATION, print the result line
measure() {
  local name=$1 conns=$2 script=$3; shift 3
  local out="$WORK/wrk-$name.txt" c0 c1 s0 s1 line bg
  wait_quiet
  # background load right before the run (1 s, server idle): other tenants of the shared box
  s0=$(sys_ticks); sleep 1; s1=$(sys_ticks)
  bg=$(awk -v s0="$s0" -v s1="$s1" 'BEGIN{split(s0,a," "); split(s1,b," "); t=b[1]-a[1]; i=b[2]-a[2]; printf "%.2f", (t > 0 ? 1 - i / t : 0)}')
  log "+ wrk -t$WRK_THREADS -c$conns -d${DURATION}s --timeout 10s --latency -s $(basename "$script") $* (loadavg $(cut -d' ' -f1 /proc/loadavg))"
  mon_start
  c0=$(cpu_ticks "$SERVER_PID"); s0=$(sys_ticks)
  timeout $((DURATION + 60)) wrk -t"$WRK_THREADS" -c"$conns" -d"${DURATION}s" --timeout 10s --latency \
    -s "$script" "$@" > "$out" 2>&1 || { log "wrk failed:"; cat "$out" >&2; }
  c1=$(cpu_ticks "$SERVER_PID"); s1=$(sys_ticks)
  mon_stop
  cat "$out" >> "$OUT/wrk-raw.txt"
  line=$(grep '^WRK ' "$out" | tail -1)
  [ -n "$line" ] || { log "no WRK line for $name"; cat "$out" >&2; line="WRK rps=NaN"; }
  local dur; dur=$(kv duration_s "$line"); dur=${dur:-$DURATION}
  # server CPU in cores; machine busy = 1 - idle share over the run (both cores, wrk included)
  local scpu busy
  scpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v d="$dur" 'BEGIN{printf "%.2f", (b-a)/hz/d}')
  busy=$(awk -v s0="$s0" -v s1="$s1" 'BEGIN{split(s0,a," "); split(s1,b," "); t=b[1]-a[1]; i=b[2]-a[2]; printf "%.2f", (t > 0 ? 1 - i / t : 0)}')
  RESULT=$(printf 'chronoconf %s_rps=%s p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s errors=%s requests=%s conns=%s threads=%s dur_s=%s server_cores=%s machine_busy=%s bg_busy=%s cc1plus_seen=%s' \
    "$name" "$(kv rps "$line")" "$(kv p50_ms "$line")" "$(kv p90_ms "$line")" "$(kv p99_ms "$line")" "$(kv max_ms "$line")" \
    "$(kv errors "$line")" "$(kv requests "$line")" "$conns" "$WRK_THREADS" "$DURATION" "$scpu" "$busy" "$bg" "$CC_SEEN")
  echo "$RESULT"
  echo "run=$RUN $RESULT" >> "$OUT/results.txt"
  WRK_LINE=$line
}

warmup() {  # warmup CONNS LUA [wrk args] : short unmeasured run
  [ "$WARMUP" -gt 0 ] || return 0
  local conns=$1 script=$2; shift 2
  wait_quiet
  timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$conns" -d"${WARMUP}s" -s "$script" "$@" >/dev/null 2>&1 || true
}

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

  # history: HISTORY more versions of KEY. wrk has no request count and waits out -d even when
  # the Lua script stops its thread at its quota, so load in chunks sized from the rate so far
  # (at most 300 s in all); the rate printed is versions written / wall time of the load.
  wait_quiet
  h0=$(status_field revision); left=$HISTORY; chunk=3; t0=$(date +%s.%N); tries=0
  log "+ repeat: wrk -t$WRK_THREADS -c$CONNS -d<chunk>s -s cc-put-history.lua $URL -- $KEY <left> $WRK_THREADS  (until $HISTORY versions)"
  while [ "$left" -gt 0 ] && [ "$tries" -lt 40 ]; do
    tries=$((tries + 1))
    timeout $((chunk + 60)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${chunk}s" --timeout 10s -s "$LUA/cc-put-history.lua" \
      "$URL" -- "$KEY" "$left" "$WRK_THREADS" > "$WORK/wrk-history.txt" 2>&1 || { log "history load failed"; cat "$WORK/wrk-history.txt" >&2; break; }
    done_n=$(( $(status_field revision) - h0 )); left=$(( HISTORY - done_n ))
    el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
    chunk=$(awk -v l="$left" -v n="$done_n" -v e="$el" 'BEGIN{r = n / e; c = (r > 0) ? int(l / r * 1.1) + 1 : 10; if (c > 60) c = 60; if (c < 1) c = 1; print c}')
    [ "$(awk -v e="$el" 'BEGIN{print (e > 300)}')" = 1 ] && { log "history load: 300 s bound reached"; break; }
  done
  el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
  head_rev=$(status_field revision)
  head_ver=$(curl -s "$URL/v1/kv/$KEY" | sed -n 's/.*"version":\([0-9]*\).*/\1/p')
  log "# history load: revisions $h0 -> $head_rev in ${el}s ($tries wrk runs), $KEY now at version $head_ver"
  line=$(printf 'chronoconf load_history_rps=%s key_versions=%s head_revision=%s wall_s=%s conns=%s' \
    "$(awk -v n="$((head_rev - h0))" -v e="$el" 'BEGIN{printf "%.1f", n / e}')" "$head_ver" "$head_rev" "$el" "$CONNS")
  echo "$line"; echo "run=$RUN $line" >> "$OUT/results.txt"
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
  for p in $PEERS; do
    wait_quiet
    log "== run $RUN: $SHARED/peer-$p.sh (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
    mon_start
    timeout 900 "$SHARED/peer-$p.sh" > "$OUT/run$RUN-$p.out" 2> "$OUT/run$RUN-$p.err" || log "peer-$p.sh failed rc=$?, see $OUT/run$RUN-$p.err"
    mon_stop
    grep -E '^(etcd|nginx|postgres|sqlite|disk) [a-z0-9_]+_(rps|tps|ops)=' "$OUT/run$RUN-$p.out" | sed "s/\$/ cc1plus_seen=$CC_SEEN/" \
      | while IFS= read -r line; do echo "$line"; echo "run=$RUN $line" >> "$OUT/results.txt"; done
  done
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
