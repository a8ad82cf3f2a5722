#!/usr/bin/env bash
# run.sh - the benchmark harness (issue 8): ONE command that builds the Release binary and the
# Google Benchmark micro-benchmarks, measures chronoconf on each store and the peers of
# ../shared/bench in ONE session on this machine (all traffic on 127.0.0.1), and prints ONE
# table: workload, figure, peer figure, ratio, target, met. The micro-benchmarks' output follows.
#
#   bench/run.sh                                   # everything, DURATION=10, EVENTS=1000000
#   DURATION=5 EVENTS=100000 bench/run.sh          # a quicker run
#   ROWS="get put" STORES=sqlite PEERS="etcd" bench/run.sh
#
# What it runs, per run (RUNS times), in this order:
#   stores   for each of STORES (memory, sqlite, postgres: a throwaway cluster from
#            scripts/pg-test-cluster.sh): a fresh server; KEY written twice (revisions 1, 2), then
#            HISTORY more versions of it; 100 keys under bench/list/ (one import); wrk, CONNS conns:
#              get_<store>         GET /v1/kv/KEY (its head)
#              get_past_<store>    GET /v1/kv/KEY?at_revision=2 (time travel over HISTORY versions)
#              list_<store>        GET /v1/kv?prefix=bench/list/ (100 entries)
#              put_<store>_c64     PUT distinct keys, durable on sqlite/postgres, group-committed
#              put_<store>_c1      the same on 1 connection (sqlite, postgres)
#   startup  `chronoconf bench load` EVENTS events (KEYS keys, VALUE_BYTES-byte values) into a
#            fresh SQLite file; the time from `serve` start to /readyz 200 (page cache warm: the
#            load just wrote the file); the server's VmRSS then against the file (db + -wal);
#            when `serve --help` lists --snapshot-every: a start with --snapshot-every 1000, a few
#            thousand PUTs, wait for <db>.snapshot, stop, and time the restart
#   watch    `chronoconf bench watch`: WATCHERS streams on one prefix of a SQLite server,
#            WATCH_WRITES PUTs every WATCH_INTERVAL_MS ms (latency from each PUT's send); rows for
#            issue 14's targets: delivery p99 ≤ 10 ms, PUT ack p50 ≤ 1 ms (bench/watch_ack.sh: the
#            server's side of the ack)
#   hotkey   for sqlite and postgres among STORES (SPEC §6, issue 14): a fresh store filled by
#            `chronoconf bench load --keys 1 --events HOT_VERSIONS` (one key, bench/hot/k00000, with
#            HOT_VERSIONS versions), a server on it; then HOT_ROUNDS times, in turn, wrk on 1 conn:
#              put_new_<store>_c1  PUT distinct new keys (durable, one commit each)
#              put_hot_<store>_c1  PUT the key with HOT_VERSIONS versions (a new version each)
#              put_short_<store>_c1  PUT one fresh key again and again (a short history: what an
#                                  update costs apart from history, for the profile; info only)
#              put_pairs_<store>   bench/put_interleaved.py: HOT_PAIRS PUTs to the hot key and
#                                  HOT_PAIRS to new keys, in turn on one connection (both see
#                                  the same load of a shared machine)
#            target: the hot key's p50 within 1.2 × the new keys' p50, judged on put_pairs (the
#            wrk rows, one 10 s window after another, move with other tenants' load: info)
#   history, events  (SPEC §6, issue 14): a fresh SQLite file with AUDIT_EVENTS - 500,100
#            single-event commits (`chronoconf bench load`, KEYS keys, actor "bench"), a server on
#            it, then bench/audit_reads.py: 100 imports of 5,000 keys and 100 PUTs of one key
#            (AUDIT_EVENTS events in all), each read AUDIT_N times on one connection (p50):
#              history   GET /v1/history/<key of the imports>?limit=100 against the same for the
#                        key of single-event commits (target ≤ 2 ×)
#              events    GET /v1/events?actor=nobody, ?since=<future>, ?until=<before the log>,
#                        ?since=S&until=U (the last 100 commits) (target p50 ≤ 5 ms each)
#   peers    ../shared/bench/peer-<p>.sh for p in PEERS (nginx: NGINX_WORKERS, default "2")
# then once: every bench/*_bench binary with --benchmark_min_time=MICRO_MIN_TIME.
#
# Knobs (env): DURATION (10) CONNS (64) WRK_THREADS (1) WARMUP (2) RUNS (1) QUIET_MAX (600)
#   IDLE_MAX (60) IDLE_BUSY (0.3): wait up to IDLE_MAX s before a measurement while the machine
#   is busier than IDLE_BUSY (other tenants)
#   STORES ("memory sqlite postgres") PEERS ("nginx etcd postgres"; "" = none)
#   ROWS ("get past list put put1 startup snapshot memory watch hotkey history events micro")
#   HOT_VERSIONS (1000000) HOT_ROUNDS (2) HOT_PAIRS (2000) AUDIT_EVENTS (1000000) AUDIT_N (50)
#   HISTORY (10000) EVENTS (1000000) KEYS (10000) VALUE_BYTES (100) BATCH (1000)
#   WATCHERS (1000) WATCH_WRITES (200) WATCH_INTERVAL_MS (20) MICRO_MIN_TIME (0.1)
#   NGINX_WORKERS ("2") BUILD_DIR (build-release) SKIP_BUILD=1 (use what is built)
#   CHRONOCONF_BIN (implies SKIP_BUILD) PORT OUT (/tmp/ccbench/run-<UTC stamp>) KEEP_TMP=1
#   TABLE_ONLY=DIR: measure nothing, print the table again from DIR (an earlier run's OUT)
# Figures are the mean over the runs. Before every measurement it waits (at most QUIET_MAX s)
# until no C++ compile runs and the machine is idle; measurements that overlapped a compile, or
# started on a busy machine, are named under the table.
# Bounded: every step has a timeout (wrk -d plus an outer timeout, curl --max-time, `timeout` on
# the loaders and peer scripts); every server it starts is stopped by its PID on exit.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
LUA="$HERE/lua"
SHARED=${SHARED_BENCH:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build-release}
[ -n "${CHRONOCONF_BIN:-}" ] && SKIP_BUILD=1
BIN=${CHRONOCONF_BIN:-$BUILD_DIR/chronoconf}
export DURATION=${DURATION:-10} CONNS=${CONNS:-64} WRK_THREADS=${WRK_THREADS:-1} WARMUP=${WARMUP:-2}
export NGINX_WORKERS=${NGINX_WORKERS:-2} PG_CLIENTS=${PG_CLIENTS:-"1 64"} PG_BATCH_CLIENTS=${PG_BATCH_CLIENTS:-1}
RUNS=${RUNS:-1}
QUIET_MAX=${QUIET_MAX:-600}
IDLE_MAX=${IDLE_MAX:-60}
STORES=${STORES-"memory sqlite postgres"}
PEERS=${PEERS-"nginx etcd postgres"}
ROWS=${ROWS:-"get past list put put1 startup snapshot memory watch hotkey history events micro"}
HOT_VERSIONS=${HOT_VERSIONS:-1000000}
HOT_ROUNDS=${HOT_ROUNDS:-2}
HOT_PAIRS=${HOT_PAIRS:-2000}
AUDIT_EVENTS=${AUDIT_EVENTS:-1000000}
AUDIT_N=${AUDIT_N:-50}
HISTORY=${HISTORY:-10000}
EVENTS=${EVENTS:-1000000}
KEYS=${KEYS:-10000}
VALUE_BYTES=${VALUE_BYTES:-100}
BATCH=${BATCH:-1000}
WATCHERS=${WATCHERS:-1000}
WATCH_WRITES=${WATCH_WRITES:-200}
WATCH_INTERVAL_MS=${WATCH_INTERVAL_MS:-20}
MICRO_MIN_TIME=${MICRO_MIN_TIME:-0.1}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-/tmp/ccbench/run-$STAMP}
LIST_PREFIX=bench/list/

# TABLE_ONLY=DIR: print the table again from DIR/results.txt (knobs as that run had them)
if [ -n "${TABLE_ONLY:-}" ]; then
  eval "$(sed -n 's/^knobs: //p' "$TABLE_ONLY/system.txt")"
  OUT=$TABLE_ONLY SKIP_BUILD=1 ROWS=${ROWS/micro/}
fi

has() { [[ " $ROWS " == *" $1 "* ]]; }
has_store() { [[ " $STORES " == *" $1 "* ]]; }

# ---------- build (Release, ccache, only what is measured) ----------
MICRO_TARGETS=$(cd "$HERE" && ls ./*_bench.cc 2>/dev/null | sed 's|^\./||; s|\.cc$||' | tr '\n' ' ')
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "+ cmake -S $REPO -B $BUILD_DIR -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache" >&2
  timeout 600 cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null || { echo "cmake failed" >&2; exit 1; }
  echo "+ ninja -C $BUILD_DIR -j2 chronoconf $MICRO_TARGETS" >&2
  # shellcheck disable=SC2086
  CCACHE_BASEDIR=$REPO CCACHE_NOHASHDIR=1 timeout 3600 ninja -C "$BUILD_DIR" -j2 chronoconf $MICRO_TARGETS >&2 \
    || { echo "build failed" >&2; exit 1; }
fi
[ -x "$BIN" ] || { echo "no chronoconf binary at $BIN" >&2; exit 1; }

if [ -z "${TABLE_ONLY:-}" ]; then  # ---------- the measurements (to the table below) ----------
mkdir -p "$OUT" /tmp/ccbench || exit 1
WORK=$(mktemp -d /tmp/ccbench/work.XXXXXX) || exit 1
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"   # log, start_server, measure, warmup, load_history, run_peer, ...
PG_STATE="$WORK/pg"     # scripts/pg-test-cluster.sh state (BUILD_DIR of its own)
PG_UP=0

pg_stop() {
  [ "$PG_UP" = 1 ] || return 0
  BUILD_DIR=$PG_STATE timeout 120 "$REPO/scripts/pg-test-cluster.sh" stop >/dev/null 2>&1 || true
  PG_UP=0
}
cleanup() {
  local rc=$?
  bench_cleanup
  pg_stop
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "# kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null && command -v curl >/dev/null || { [ -n "$SHARED" ] && "$SHARED/peers-setup.sh" >&2; }
command -v wrk >/dev/null || { echo "wrk missing (apt-get install -y wrk)" >&2; exit 1; }
if [ -n "$PEERS" ] && [ ! -d "$SHARED" ]; then echo "no shared bench at $SHARED" >&2; exit 1; fi
# Many watch streams: this shell and every server it starts get the hard open-file limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

KNOBS="DURATION=$DURATION IDLE_MAX=$IDLE_MAX QUIET_MAX=$QUIET_MAX CONNS=$CONNS WRK_THREADS=$WRK_THREADS WARMUP=$WARMUP RUNS=$RUNS STORES='$STORES' PEERS='$PEERS' ROWS='$ROWS' HISTORY=$HISTORY EVENTS=$EVENTS KEYS=$KEYS VALUE_BYTES=$VALUE_BYTES WATCHERS=$WATCHERS WATCH_WRITES=$WATCH_WRITES WATCH_INTERVAL_MS=$WATCH_INTERVAL_MS HOT_VERSIONS=$HOT_VERSIONS HOT_ROUNDS=$HOT_ROUNDS HOT_PAIRS=$HOT_PAIRS AUDIT_EVENTS=$AUDIT_EVENTS AUDIT_N=$AUDIT_N NGINX_WORKERS='$NGINX_WORKERS' PORT=$PORT ulimit_n=$(ulimit -n)"
machine_info "$KNOBS" | tee "$OUT/system.txt" >&2

# ---------- one store: GET, time travel, list, PUT ----------
# The 100 keys of the list test, one import (one commit), ~100-byte values.
list_body() {
  local i sep=""
  printf '{"values":{'
  for i in $(seq -w 0 99); do
    printf '%s"%sk%s":{"service":"checkout","feature":"flag-%s","enabled":true,"rollout":25,"owner":"team-payments"}' "$sep" "$LIST_PREFIX" "$i" "$i"
    sep=","
  done
  printf '}}'
}

store_url() {  # store_url STORE -> the URL of a fresh store of that kind
  case $1 in
    memory) echo memory: ;;
    sqlite) local db="$WORK/events-run$RUN.db"; rm -f "$db" "$db-wal" "$db-shm"; echo "sqlite:$db" ;;
    postgres)
      local url
      url=$(BUILD_DIR=$PG_STATE timeout 120 "$REPO/scripts/pg-test-cluster.sh" start) || return 1
      PG_UP=1; echo "$url" ;;
    *) return 1 ;;
  esac
}

run_store() {
  local s=$1 url r1 r2 n
  url=$(store_url "$s") || { log "cannot make a $s store"; return 1; }
  [ "$s" = postgres ] && PG_UP=1
  start_server "$url"
  r1=$(put "$KEY" "$VAL1" | sed -n 's/^{"revision":\([0-9]*\).*/\1/p')
  r2=$(put "$KEY" "$VAL2" | sed -n 's/^{"revision":\([0-9]*\).*/\1/p')
  [ "$r1" = 1 ] && [ "$r2" = 2 ] || { log "$s: expected revisions 1 and 2 for the first writes, got '$r1' '$r2'"; exit 1; }
  list_body > "$WORK/list.json"
  curl -sf --max-time 30 -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/list.json" "$URL/v1/import" >/dev/null \
    || { log "$s: import of the list keys failed"; exit 1; }
  if has past; then
    load_history "history_$s" "$KEY" "$HISTORY" "$CONNS"
    local past; past=$(curl -s --max-time 10 "$URL/v1/kv/$KEY?at_revision=2")
    echo "$past" | grep -q "\"value\":$VAL2,\"version\":2," || { log "$s: time travel returned '$past', expected version 2"; exit 1; }
  fi
  if has get || has past || has list; then
    warmup "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY"
    measure "get_$s" "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY"
  fi
  has past && measure "get_past_$s" "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv/$KEY?at_revision=2"
  if has list; then
    n=$(curl -s --max-time 10 "$URL/v1/kv?prefix=$LIST_PREFIX" | grep -o '"key":' | wc -l)
    [ "$n" = 100 ] || { log "$s: the list of $LIST_PREFIX has $n entries, expected 100"; exit 1; }
    measure "list_$s" "$CONNS" "$LUA/cc-get.lua" "$URL/v1/kv?prefix=$LIST_PREFIX"
  fi
  if has put; then
    warmup "$CONNS" "$LUA/cc-put.lua" "$URL" -- warm/
    tx_mark
    measure "put_${s}_c64" "$CONNS" "$LUA/cc-put.lua" "$URL" -- bench/put/
    tx_report "put_${s}_c64"
  fi
  if has put1 && [ "$s" != memory ]; then
    measure "put_${s}_c1" 1 "$LUA/cc-put.lua" "$URL" -- bench/put1/
  fi
  stop_server
  [ "$s" = postgres ] && pg_stop
  rm -f "$WORK"/events-run*.db*
}

# ---------- start-up, snapshot, memory (SQLite) ----------
# timed_start STORE_URL [serve args] -> READY_S (process start to /readyz 200, polled every 20 ms)
timed_start() {
  local store=$1; shift
  wait_quiet
  wait_idle start-up
  log "+ (timed) $BIN serve --store $store --listen 127.0.0.1:$PORT $*"
  local t0 t1 deadline
  t0=$(date +%s.%N)
  "$BIN" serve --store "$store" --listen "127.0.0.1:$PORT" "$@" >> "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  deadline=$(( $(date +%s) + 600 ))
  READY_S=""
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ "$(ready_code)" = 200 ]; then t1=$(date +%s.%N); READY_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}'); return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.02
  done
  log "server did not become ready"; tail -5 "$WORK/server.log" >&2; return 1
}

run_startup() {
  local db="$WORK/startup-run$RUN.db" line events rss file
  rm -f "$db" "$db-wal" "$db-shm" "$db.snapshot"
  wait_quiet
  log "+ $BIN bench load --store sqlite:$db --keys $KEYS --events $EVENTS --value-bytes $VALUE_BYTES --batch $BATCH"
  timeout 1800 "$BIN" bench load --store "sqlite:$db" --keys "$KEYS" --events "$EVENTS" \
    --value-bytes "$VALUE_BYTES" --batch "$BATCH" > "$WORK/load.out" 2>> "$OUT/log.txt" || { log "bench load failed"; cat "$WORK/load.out" >&2; return 1; }
  line=$(grep '^BENCH-LOAD ' "$WORK/load.out")
  record "chronoconf bench_load_eps=$(kv events_per_s "$line") events=$(kv events "$line") seconds=$(kv seconds "$line")"
  file=$(( $(stat -c %s "$db") + $(stat -c %s "$db-wal" 2>/dev/null || echo 0) ))
  timed_start "sqlite:$db" || return 1
  rss=$(awk '/VmRSS/{print $2}' "/proc/$SERVER_PID/status")
  events=$(status_field events)
  record "chronoconf startup_eps=$(awk -v e="$events" -v s="$READY_S" 'BEGIN{printf "%.0f", e / s}') ready_s=$READY_S events=$events rss_kb=$rss file_bytes=$file"
  stop_server
  if has snapshot; then
    if "$BIN" serve --help 2>&1 | grep -q -- '--snapshot-every'; then
      start_server "sqlite:$db" --snapshot-every 1000
      # The snapshot is written after N commits: give it the commits, then wait for the file.
      local deadline=$(( $(date +%s) + 5 ))
      while [ ! -e "$db.snapshot" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
      if [ ! -e "$db.snapshot" ]; then
        timeout 60 wrk -t1 -c16 -d2s -s "$LUA/cc-put.lua" "$URL" -- bench/snap/ > /dev/null 2>&1
        deadline=$(( $(date +%s) + 30 ))
        while [ ! -e "$db.snapshot" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
      fi
      stop_server
      if [ -e "$db.snapshot" ]; then
        timed_start "sqlite:$db" --snapshot-every 1000 || return 1
        events=$(status_field events)
        record "chronoconf startup_snapshot_s=$READY_S events=$events snapshot_bytes=$(stat -c %s "$db.snapshot")"
        stop_server
      else
        log "# --snapshot-every 1000 wrote no $db.snapshot within 35 s and a few thousand commits"
        record "chronoconf startup_snapshot_na=1 reason=no_snapshot_file"
      fi
    else
      record "chronoconf startup_snapshot_na=1 reason=no_flag"
    fi
  fi
  rm -f "$db" "$db-wal" "$db-shm" "$db.snapshot"
}

# ---------- watchers ----------
run_watch() {
  local db="$WORK/watch-run$RUN.db" line
  rm -f "$db" "$db-wal" "$db-shm"
  start_server "sqlite:$db" --max-connections $((WATCHERS + 256))
  wait_quiet
  wait_idle watch
  log "+ $BIN bench watch --server $URL --watchers $WATCHERS --prefix bench/watch/ --writes $WATCH_WRITES --interval-ms $WATCH_INTERVAL_MS"
  mon_start
  timeout 600 "$BIN" bench watch --server "$URL" --watchers "$WATCHERS" --prefix bench/watch/ \
    --writes "$WATCH_WRITES" --interval-ms "$WATCH_INTERVAL_MS" > "$WORK/watch.out" 2>> "$OUT/log.txt" \
    || log "bench watch exited non-zero (some watcher or delivery missing)"
  mon_stop
  cat "$WORK/watch.out" >&2
  cat "$WORK/watch.out" >> "$OUT/watch.txt"
  line=$(grep '^BENCH-WATCH ' "$WORK/watch.out" | sed 's/^BENCH-WATCH //')
  [ -n "$line" ] && record "chronoconf watch_write_p99_ms=$(kv write_p99_p99_ms "$line") $line cc1plus_seen=$CC_SEEN"
  stop_server
  rm -f "$db" "$db-wal" "$db-shm"
}

# ---------- a key with a million versions (hotkey) ----------
HOT_KEY=bench/hot/k00000   # the key `bench load --keys 1 --prefix bench/hot/` writes
key_version() { curl -s --max-time 10 "$URL/v1/kv/$1" | sed -n 's/.*"version":\([0-9]*\).*/\1/p'; }

run_hotkey() {
  local s=$1 url line ver round bg
  url=$(store_url "$s") || { log "cannot make a $s store"; return 1; }
  [ "$s" = postgres ] && PG_UP=1
  wait_quiet
  log "+ $BIN bench load --store $url --keys 1 --events $HOT_VERSIONS --value-bytes $VALUE_BYTES --batch $BATCH --prefix bench/hot/"
  if ! timeout 1800 "$BIN" bench load --store "$url" --keys 1 --events "$HOT_VERSIONS" --value-bytes "$VALUE_BYTES" \
      --batch "$BATCH" --prefix bench/hot/ > "$WORK/hotload.out" 2>> "$OUT/log.txt"; then
    log "$s: bench load of $HOT_KEY failed"; cat "$WORK/hotload.out" >&2
    [ "$s" = postgres ] && pg_stop
    return 1
  fi
  line=$(grep '^BENCH-LOAD ' "$WORK/hotload.out")
  record "chronoconf hot_load_${s}_eps=$(kv events_per_s "$line") events=$(kv events "$line") seconds=$(kv seconds "$line")"
  READY_TIMEOUT=600 start_server "$url"
  ver=$(key_version "$HOT_KEY")
  [ "$ver" = "$HOT_VERSIONS" ] || { log "$s: $HOT_KEY is at version '$ver', expected $HOT_VERSIONS"; exit 1; }
  warmup 1 "$LUA/cc-put.lua" "$URL" -- warm/
  warmup 1 "$LUA/cc-put-history.lua" "$URL" -- "$HOT_KEY" 1000000000 1
  # In turn, so that a change of the machine's load between them shows in both.
  for round in $(seq 1 "$HOT_ROUNDS"); do
    measure "put_new_${s}_c1" 1 "$LUA/cc-put.lua" "$URL" -- "bench/new$round/"
    measure "put_hot_${s}_c1" 1 "$LUA/cc-put-history.lua" "$URL" -- "$HOT_KEY" 1000000000 1
    measure "put_short_${s}_c1" 1 "$LUA/cc-put-history.lua" "$URL" -- "bench/short$round/k" 1000000000 1
    record "chronoconf short_key_${s}_versions=$(key_version "bench/short$round/k")"
  done
  # The verdict: hot and new PUTs in turn on one connection, so both see the same load.
  wait_quiet
  wait_idle "put_pairs_$s"; bg=$BG
  log "+ bench/put_interleaved.py $URL $HOT_KEY -n $HOT_PAIRS --machine"
  mon_start
  timeout 600 /usr/bin/python3 "$HERE/put_interleaved.py" "$URL" "$HOT_KEY" -n "$HOT_PAIRS" --machine \
    > "$WORK/pairs.out" 2>> "$OUT/log.txt" || log "put_interleaved.py failed rc=$?"
  mon_stop
  grep -v '^PAIRS ' "$WORK/pairs.out" >&2
  line=$(grep '^PAIRS ' "$WORK/pairs.out" | sed 's/^PAIRS //')
  [ -n "$line" ] && record "chronoconf put_pairs_${s}_ratio=$(kv ratio "$line") $line bg_busy=$bg cc1plus_seen=$CC_SEEN"
  ver=$(key_version "$HOT_KEY")
  record "chronoconf hot_key_${s}_versions=$ver"
  stop_server
  [ "$s" = postgres ] && pg_stop
  rm -f "$WORK"/events-run*.db*
}

# ---------- history pages and /v1/events over a long log (history, events) ----------
run_audit() {
  local db="$WORK/audit-run$RUN.db" pre line name bg
  pre=$(( AUDIT_EVENTS - 100 * 5000 - 100 ))
  [ "$pre" -ge 0 ] || pre=0
  rm -f "$db" "$db-wal" "$db-shm"
  wait_quiet
  log "+ $BIN bench load --store sqlite:$db --keys $KEYS --events $pre --value-bytes $VALUE_BYTES --batch $BATCH"
  timeout 1800 "$BIN" bench load --store "sqlite:$db" --keys "$KEYS" --events "$pre" --value-bytes "$VALUE_BYTES" \
    --batch "$BATCH" > "$WORK/auditload.out" 2>> "$OUT/log.txt" || { log "bench load failed"; cat "$WORK/auditload.out" >&2; return 1; }
  READY_TIMEOUT=600 start_server "sqlite:$db"
  wait_quiet
  wait_idle audit; bg=$BG
  log "+ bench/audit_reads.py $URL --imports 100 --import-keys 5000 --singles 100 -n $AUDIT_N --machine"
  mon_start
  timeout 1200 /usr/bin/python3 "$HERE/audit_reads.py" "$URL" --imports 100 --import-keys 5000 --singles 100 \
    -n "$AUDIT_N" --machine > "$WORK/audit.out" 2>> "$OUT/log.txt" || log "audit_reads.py failed rc=$?"
  mon_stop
  grep -v '^AUDIT ' "$WORK/audit.out" | tee -a "$OUT/audit.txt" >&2
  while read -r _ name line; do
    record "chronoconf audit_${name}_ms=$(kv p50_ms "$line") $line bg_busy=$bg cc1plus_seen=$CC_SEEN"
  done < <(grep '^AUDIT ' "$WORK/audit.out")
  stop_server
  rm -f "$db" "$db-wal" "$db-shm"
}

: > "$OUT/results.txt"
for RUN in $(seq 1 "$RUNS"); do
  log "== run $RUN ($(date -u +%H:%M:%S) UTC, loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
  if has get || has past || has list || has put || has put1; then
    for s in $STORES; do log "== run $RUN: store $s"; run_store "$s"; done
  fi
  if has startup || has snapshot || has memory; then log "== run $RUN: start-up"; run_startup; fi
  if has watch; then log "== run $RUN: watchers"; run_watch; fi
  if has hotkey; then
    for s in $STORES; do
      case $s in sqlite|postgres) log "== run $RUN: a key with $HOT_VERSIONS versions, $s"; run_hotkey "$s" ;; esac
    done
  fi
  if has history || has events; then log "== run $RUN: history and events over $AUDIT_EVENTS events"; run_audit; fi
  for p in $PEERS; do run_peer "$p"; done
done
fi  # the measurements

# ---------- the table ----------
R="$OUT/results.txt"
# val WHO KEY [FIELD] : mean over the runs of FIELD (default KEY's own value) on lines "WHO KEY=…"
val() {
  awk -v w="$1" -v k="$2" -v f="${3:-$2}" '$2 == w { split($3, a, "="); if (a[1] != k) next
    for (i = 3; i <= NF; i++) { split($i, b, "="); if (b[1] == f && b[2] ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) { s += b[2]; c++ } } }
    END { if (c) printf "%.6g", s / c }' "$R"
}
# runs WHO KEY [FIELD] [FORMAT] : " [runs: a | b]" (each run's value) when there was more than one
runs() {
  [ "$RUNS" -gt 1 ] || return 0
  awk -v w="$1" -v k="$2" -v f="${3:-$2}" -v fmt="${4:-}" '
    function commas(x,   s, n, i, o) { s = sprintf("%.0f", x); n = length(s)
      for (i = 1; i <= n; i++) { o = o substr(s, i, 1); if ((n - i) % 3 == 0 && i < n) o = o "," } return o }
    $2 == w { split($3, a, "="); if (a[1] != k) next
      for (i = 3; i <= NF; i++) { split($i, b, "="); if (b[1] == f) {
        o = o sep (b[2] !~ /^-?[0-9.]+$/ ? b[2] : fmt == "" ? commas(b[2]) : sprintf(fmt, b[2])); sep = " / " } } }
    END { if (o != "") printf " [runs: %s]", o }' "$R"
}
num() {  # 12345.6 -> 12,346 ; "" -> n/a
  awk -v x="$1" 'BEGIN { if (x == "") { print "n/a"; exit } s = sprintf("%.0f", x); n = length(s); o = ""
    for (i = 1; i <= n; i++) { o = o substr(s, i, 1); if ((n - i) % 3 == 0 && i < n) o = o "," } print o }'
}
ms() { [ -n "$1" ] && printf '%.2f ms' "$1" || echo "n/a"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print ""; else printf "%.2f", a / b }'; }
met() {  # met VALUE OP LIMIT
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "") { print "n/a"; exit }
    ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0); print ok ? "yes" : "**no**" }'
}
rate_text() {  # rate_text WHO KEY : "72,635 req/s (p50 0.89 ms)" [+ errors]
  local r p e unit=req/s; r=$(val "$1" "$2"); p=$(val "$1" "$2" p50_ms); e=$(val "$1" "$2" errors)
  [ -z "$r" ] && { echo "n/a"; return; }
  case $2 in *_tps) unit=tx/s ;; *_ops) unit=ops/s ;; esac
  printf '%s %s (p50 %s)%s' "$(num "$r")" "$unit" "$(ms "$p")" "$(runs "$1" "$2")"
  [ -n "$e" ] && [ "$(awk -v e="$e" 'BEGIN{print (e > 0)}')" = 1 ] && printf ', %s errors' "$(num "$e")"
  echo
}
TABLE="$OUT/table.md"
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@" >> "$TABLE"; }
{
  echo "| workload | figure | peer figure | ratio | target | met |"
  echo "|---|---|---|---|---|---|"
} > "$TABLE"

ratio_row() {  # ratio_row LABEL WHO KEY PEER_WHO PEER_KEY PEER_LABEL LIMIT TARGET_TEXT
  local r; r=$(ratio "$(val "$2" "$3")" "$(val "$4" "$5")")
  row "$1" "$(rate_text "$2" "$3")" "$6 $(rate_text "$4" "$5")" "${r:-n/a}${r:+ ×}" "$8" "$( [ -n "$7" ] && met "$r" ">=" "$7" || echo "—")"
}

W2="nginx get_w${NGINX_WORKERS##* }_rps"
for s in $STORES; do
  if has get; then
    if [ "$s" = memory ]; then
      ratio_row "GET one key, $s, $CONNS conns" chronoconf "get_${s}_rps" ${W2% *} ${W2#* } "nginx static (${NGINX_WORKERS##* } workers)" 0.9 "≥ 0.9 × nginx"
      ratio_row "GET one key, $s, $CONNS conns" chronoconf "get_${s}_rps" etcd get_rps "etcd range" 10 "≥ 10 × etcd"
    else
      ratio_row "GET one key, $s, $CONNS conns" chronoconf "get_${s}_rps" ${W2% *} ${W2#* } "nginx static (${NGINX_WORKERS##* } workers)" "" "(info)"
    fi
  fi
  has past && ratio_row "GET at an old revision ($s, rev 2 of ~$HISTORY versions)" chronoconf "get_past_${s}_rps" chronoconf "get_${s}_rps" "plain GET" 0.9 "≥ 0.9 × plain GET"
  has list && ratio_row "GET prefix list of 100 keys ($s)" chronoconf "list_${s}_rps" chronoconf "get_${s}_rps" "plain GET" 0.3 "≥ 0.3 × plain GET"
done
if has put; then
  has_store sqlite && ratio_row "durable PUT, $CONNS conns, SQLite" chronoconf put_sqlite_c64_rps etcd put_rps "etcd put" 4 "≥ 4 × etcd put"
  if has_store postgres; then
    ratio_row "durable PUT, $CONNS conns, PostgreSQL" chronoconf put_postgres_c64_rps etcd put_rps "etcd put" 2 "≥ 2 × etcd put"
    ratio_row "durable PUT, $CONNS conns, PostgreSQL" chronoconf put_postgres_c64_rps postgres insert1_c64_tps "pgbench insert1_c64" 1 "≥ 1 × pgbench insert1_c64"
  fi
  has_store memory && ratio_row "PUT, $CONNS conns, memory (no store I/O)" chronoconf put_memory_c64_rps etcd put_rps "etcd put" "" "(info)"
fi
if has put1; then
  for s in sqlite postgres; do
    has_store "$s" || continue
    p=$(val chronoconf "put_${s}_c1_rps" p50_ms)
    if [ "$s" = sqlite ]; then
      row "PUT on one connection, SQLite" "p50 $(ms "$p"), p99 $(ms "$(val chronoconf put_sqlite_c1_rps p99_ms)"); $(num "$(val chronoconf put_sqlite_c1_rps)") req/s" "" "" "p50 ≤ 0.25 ms" "$(met "$p" "<=" 0.25)"
    else
      row "PUT on one connection, PostgreSQL" "p50 $(ms "$p"); $(num "$(val chronoconf put_postgres_c1_rps)") req/s" "pgbench insert1_c1 p50 $(ms "$(val postgres insert1_c1_tps p50_ms)")" "" "(info)" "—"
    fi
  done
fi
if has startup; then
  eps=$(val chronoconf startup_eps); ev=$(val chronoconf startup_eps events); rs=$(val chronoconf startup_eps ready_s)
  row "start-up: read model rebuilt from $(num "$ev") events (SQLite, $KEYS keys, ~$VALUE_BYTES-byte values)" \
    "$(num "$eps") events/s (ready in ${rs:-n/a} s)$(runs chronoconf startup_eps ready_s '%.2f s')" "bench load wrote $(num "$(val chronoconf bench_load_eps)") events/s" "" "≥ 500,000 events/s" "$(met "$eps" ">=" 500000)"
fi
if has snapshot; then
  ss=$(val chronoconf startup_snapshot_s)
  if [ -n "$ss" ]; then
    row "start-up with a snapshot (--snapshot-every 1000)" "ready in $ss s" "" "" "≤ 1 s" "$(met "$ss" "<=" 1)"
  else
    why=$(grep -o 'startup_snapshot_na=1 reason=[a-z_]*' "$R" | tail -1 | sed 's/.*reason=//')
    row "start-up with a snapshot (--snapshot-every 1000)" "not available ($( [ "$why" = no_flag ] && echo "serve has no --snapshot-every" || echo "--snapshot-every wrote no snapshot file" ))" "" "" "≤ 1 s" "n/a"
  fi
fi
if has memory; then
  rss=$(val chronoconf startup_eps rss_kb); fb=$(val chronoconf startup_eps file_bytes); ev=$(val chronoconf startup_eps events)
  rb=$(awk -v r="$rss" 'BEGIN{ if (r != "") printf "%.0f", r * 1024 }')
  mr=$(ratio "$rb" "$fb")
  row "resident memory with $(num "$ev") events" \
    "VmRSS $(num "$(awk -v b="$rb" 'BEGIN{ if (b != "") printf "%.0f", b / 1048576 }')") MiB = $(num "$(ratio "$rb" "$ev")") bytes/event" \
    "SQLite db + -wal $(num "$(awk -v b="$fb" 'BEGIN{ if (b != "") printf "%.0f", b / 1048576 }')") MiB = $(num "$(ratio "$fb" "$ev")") bytes/event" \
    "${mr:-n/a}${mr:+ ×}" "≤ 1.5 × the file" "$(met "$mr" "<=" 1.5)"
fi
if has watch; then
  wp=$(val chronoconf watch_write_p99_ms); w50=$(val chronoconf watch_write_p99_ms write_p99_p50_ms)
  wi=$(val chronoconf watch_write_p99_ms within_target); wc=$(val chronoconf watch_write_p99_ms connected)
  we=$(val chronoconf watch_write_p99_ms expected); wr=$(val chronoconf watch_write_p99_ms received)
  wl=$(val chronoconf watch_write_p99_ms p99_ms)
  row "$WATCHERS watchers on one prefix (SQLite), $WATCH_WRITES writes every $WATCH_INTERVAL_MS ms" \
    "99 % of watchers had a write within $(ms "$w50") (median write), $(ms "$wp") (p99 write)$(runs chronoconf watch_write_p99_ms watch_write_p99_ms '%.1f ms'); $(awk -v x="$wi" 'BEGIN{ if (x != "") printf "%.2f %%", x * 100; else printf "n/a" }') of deliveries ≤ 50 ms; delivery p99 $(ms "$wl"); $(num "$wr")/$(num "$we") received, $(num "$wc") connected; from the PUT's send" \
    "" "" "99 % within 50 ms (p99 over writes)" "$(met "$wp" "<=" 50)"
  # Issue 14's targets for the same run: the delivery p99 over every delivery,
  # and the PUT's acknowledgement as the bench client saw it (bench/watch_ack.sh
  # also reads the server's own figure from its access log).
  row "$WATCHERS watchers: delivery p99 (every delivery, from the PUT's send)" "$(ms "$wl")" "" "" "≤ 10 ms" "$(met "$wl" "<=" 10)"
  wa=$(val chronoconf watch_write_p99_ms put_p50_ms)
  row "$WATCHERS watchers attached: PUT acknowledgement p50 (bench client)" "$(ms "$wa")" "" "" "≤ 1 ms" "$(met "$wa" "<=" 1)"
fi

if has hotkey; then
  for s in sqlite postgres; do
    has_store "$s" || continue
    hp=$(val chronoconf "put_hot_${s}_c1_rps" p50_ms); np=$(val chronoconf "put_new_${s}_c1_rps" p50_ms)
    hr=$(ratio "$hp" "$np"); hv=$(val chronoconf "hot_load_${s}_eps" events)
    row "PUT to a key with $(num "$hv") versions, $( [ "$s" = sqlite ] && echo SQLite || echo PostgreSQL ), 1 conn" \
      "p50 $(ms "$hp")$(runs chronoconf "put_hot_${s}_c1_rps" p50_ms '%.2f ms'), p99 $(ms "$(val chronoconf "put_hot_${s}_c1_rps" p99_ms)"); $(num "$(val chronoconf "put_hot_${s}_c1_rps")") req/s" \
      "PUT to new keys p50 $(ms "$np")$(runs chronoconf "put_new_${s}_c1_rps" p50_ms '%.2f ms'), p99 $(ms "$(val chronoconf "put_new_${s}_c1_rps" p99_ms)"); $(num "$(val chronoconf "put_new_${s}_c1_rps")") req/s" \
      "${hr:-n/a}${hr:+ ×}" "(info: ${DURATION} s windows one after another; the verdict is the paired row)" "—"
    pr=$(val chronoconf "put_pairs_${s}_ratio")
    [ -n "$pr" ] && row "PUT to the key with $(num "$hv") versions and to a new key in turn, $( [ "$s" = sqlite ] && echo SQLite || echo PostgreSQL ), 1 conn, $(num "$(val chronoconf "put_pairs_${s}_ratio" n)") pairs" \
      "p50 $(ms "$(val chronoconf "put_pairs_${s}_ratio" hot_p50_ms)"), p90 $(ms "$(val chronoconf "put_pairs_${s}_ratio" hot_p90_ms)")$(runs chronoconf "put_pairs_${s}_ratio" hot_p50_ms '%.2f ms')" \
      "new key p50 $(ms "$(val chronoconf "put_pairs_${s}_ratio" new_p50_ms)"), p90 $(ms "$(val chronoconf "put_pairs_${s}_ratio" new_p90_ms)")" \
      "$(printf '%.2f' "$pr") ×" "p50 ≤ 1.2 × a new key's" "$(met "$pr" "<=" 1.2)"
    sp=$(val chronoconf "put_short_${s}_c1_rps" p50_ms); sr=$(ratio "$sp" "$np")
    [ -n "$sp" ] && row "PUT to a key of 1 to $(num "$(val chronoconf "short_key_${s}_versions")") versions (rewritten during the measurement), $( [ "$s" = sqlite ] && echo SQLite || echo PostgreSQL ), 1 conn" \
      "p50 $(ms "$sp")$(runs chronoconf "put_short_${s}_c1_rps" p50_ms '%.2f ms'), p99 $(ms "$(val chronoconf "put_short_${s}_c1_rps" p99_ms)"); $(num "$(val chronoconf "put_short_${s}_c1_rps")") req/s" \
      "PUT to new keys (as above)" "${sr:-n/a}${sr:+ ×}" "(info: an update apart from history)" "—"
  done
fi
audit_text() {  # audit_text NAME : "p50 0.25 ms (best 0.20 ms), N events returned"
  local p; p=$(val chronoconf "audit_$1_ms")
  [ -z "$p" ] && { echo "n/a"; return; }
  printf 'p50 %s (best %s, p90 %s)%s; %s events returned\n' "$(ms "$p")" "$(ms "$(val chronoconf "audit_$1_ms" best_ms)")" \
    "$(ms "$(val chronoconf "audit_$1_ms" p90_ms)")" "$(runs chronoconf "audit_$1_ms" p50_ms '%.2f ms')" "$(num "$(val chronoconf "audit_$1_ms" returned)")"
}
le=$(num "$(val chronoconf audit_events_actor_ms log_events)"); lc=$(num "$(val chronoconf audit_events_actor_ms log_commits)")
if has history; then
  hr=$(ratio "$(val chronoconf audit_history_imports_ms)" "$(val chronoconf audit_history_single_ms)")
  row "GET /v1/history/K?limit=100, K written by 100 imports of 5,000 keys (log of $le events, $lc commits)" \
    "$(audit_text history_imports)" "K of 100 single-event commits: $(audit_text history_single)" "${hr:-n/a}${hr:+ ×}" "≤ 2 × the single-event key" "$(met "$hr" "<=" 2)"
fi
if has events; then
  for q in "actor:?actor=nobody" "since:?since=<a year ahead>" "until:?until=<before the log>" "window:?since=S&until=U (the last 100 commits)"; do
    p=$(val chronoconf "audit_events_${q%%:*}_ms")
    row "GET /v1/events${q#*:} over $le events ($lc commits)" "$(audit_text "events_${q%%:*}")" "" "" "p50 ≤ 5 ms" "$(met "$p" "<=" 5)"
  done
fi
{
  echo
  echo "chronoconf on the stores and the peers, one session ($(date -u +%Y-%m-%dT%H:%MZ)), mean of $RUNS run(s):"
  echo
  cat "$TABLE"
  overlapped=$(awk '{ for (i = 3; i <= NF; i++) if ($i ~ /^cc1plus_seen=[1-9]/) { split($3, a, "="); printf "%s%s %s (run %s)", sep, $2, a[1], substr($1, 5); sep = ", " } }' "$R")
  echo
  [ -n "$overlapped" ] && echo "A C++ compile ran during: $overlapped." || echo "No C++ compile ran during any measurement."
  # bg_busy: the machine's busy share in the idle second before a chronoconf measurement (other tenants)
  busy=$(awk '{ for (i = 3; i <= NF; i++) if ($i ~ /^bg_busy=/) { split($i, b, "="); if (b[2] > 0.3) { split($3, a, "="); printf "%s%s %s (run %s)", sep, a[1], b[2], substr($1, 5); sep = ", " } } }' "$R")
  [ -n "$busy" ] && echo "Other load on the machine (busy share in the idle second before; 2 cores = 1.00) before: $busy."
} | tee "$OUT/summary.md"

if has micro; then
  echo
  echo "Micro-benchmarks (Google Benchmark, --benchmark_min_time=$MICRO_MIN_TIME):"
  for t in $MICRO_TARGETS; do
    b="$(dirname "$BIN")/bench/$t"
    [ -x "$b" ] || b="$BUILD_DIR/bench/$t"
    [ -x "$b" ] || { echo "($t: not built)"; continue; }
    wait_quiet
    echo
    timeout 600 "$b" --benchmark_min_time="$MICRO_MIN_TIME" 2>&1 | grep -v '^\*\*\*' | tee -a "$OUT/micro.txt"
  done
fi
echo "# raw output: $OUT" >&2
