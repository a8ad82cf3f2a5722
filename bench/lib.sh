# shellcheck shell=bash
# lib.sh - helpers shared by bench/run.sh and bench/run-http-bench.sh (sourced, not run).
#
# The caller sets, before sourcing: BIN (the chronoconf binary), OUT (results folder, exists),
# WORK (scratch folder, exists), DURATION, WRK_THREADS, WARMUP, QUIET_MAX; PORT is picked here
# when unset. It may set READY_TIMEOUT (s, default 30) before start_server, and IDLE_MAX /
# IDLE_BUSY (default 0 / 0.3): before a measurement, wait up to IDLE_MAX s while other tenants
# keep the machine busier than IDLE_BUSY.
# Defined here: KEY, VAL1, VAL2 (the key of the GET tests). State kept here: SERVER_PID, MON_PID (stopped by bench_cleanup, which the caller's EXIT trap
# calls), RESULT / WRK_LINE (the last measurement), RUN (the caller's run number).
# Every wrk has -d and an outer timeout, every curl a --max-time; servers are stopped by PID.

SERVER_PID=""
MON_PID=""
RUN=${RUN:-1}
READY_TIMEOUT=${READY_TIMEOUT:-30}
IDLE_MAX=${IDLE_MAX:-0}      # measure: wait at most this long (s) for the machine to be idle
IDLE_BUSY=${IDLE_BUSY:-0.3}  # ... "idle" = at most this busy share in the second before
BENCH_LUA=$(cd "$(dirname "${BASH_SOURCE[0]}")/lua" && pwd)
# The key the GET and time-travel tests read, and its first two values (revisions 1 and 2).
KEY=config/checkout/new-pricing
VAL1='{"enabled":false,"rollout":0}'
VAL2='{"enabled":true,"rollout":25}'

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

bench_cleanup() {  # stops what lib.sh started (monitor, server)
  stop_pid "$MON_PID"; MON_PID=""
  stop_pid "$SERVER_PID"; SERVER_PID=""
}

port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
if [ -z "${PORT:-}" ]; then
  PORT=27700
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
fi
URL="http://127.0.0.1:$PORT"

machine_info() {  # machine_info "knob line" : prints the machine, tools and binary
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host_kernel=$(uname -r) cpus=$(nproc) cpu='$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')' mem_gib=$(free -g | awk '/Mem:/{print $2}')"
  echo "disk_for_tmp='$(df --output=source,fstype /tmp | tail -1 | tr -s ' ')'"
  echo "wrk='$(wrk -v 2>&1 | head -1 | cut -c1-40)' git=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo +dirty)"
  echo "chronoconf_bin=$BIN mtime='$(stat -c %y "$BIN" | cut -c1-19)' sha256=$(sha256sum "$BIN" | cut -c1-16)"
  echo "knobs: $1"
}

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

ready_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$URL/readyz"; }

start_server() {  # start_server STORE_URL [serve args...] : sets SERVER_PID, waits for /readyz
  local store=$1; shift
  log "+ $BIN serve --store $store --listen 127.0.0.1:$PORT $*"
  "$BIN" serve --store "$store" --listen "127.0.0.1:$PORT" "$@" >> "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ "$(ready_code)" = 200 ] && return 0
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

# wait_idle NAME -> BG : the machine's busy share over 1 s (both cores; the server under test is
# idle then, so this is other tenants of the shared box); while it is above IDLE_BUSY, waits
# (every 5 s, at most IDLE_MAX s)
wait_idle() {
  local name=$1 waited=0 s0 s1
  while :; do
    s0=$(sys_ticks); sleep 1; s1=$(sys_ticks)
    BG=$(awk -v s0="$s0" -v s1="$s1" 'BEGIN{split(s0,a," "); split(s1,b," "); t=b[1]-a[1]; i=b[2]-a[2]; printf "%.2f", (t > 0 ? 1 - i / t : 0)}')
    [ "$(awk -v b="$BG" -v m="$IDLE_BUSY" 'BEGIN{print (b <= m)}')" = 1 ] && return 0
    if [ "$waited" -ge "$IDLE_MAX" ]; then
      [ "$IDLE_MAX" -gt 0 ] && log "# machine still busy ($BG) after ${waited}s: measuring $name anyway"
      return 0
    fi
    [ "$waited" -eq 0 ] && log "# machine busy ($BG of both cores) before $name: waiting, at most ${IDLE_MAX}s"
    sleep 4; waited=$((waited + 5))
  done
}

# record LINE : prints a result line and appends it to results.txt with the run number
record() { echo "$1"; echo "run=$RUN $1" >> "$OUT/results.txt"; }

# measure NAME CONNS LUA [wrk args...] : wait for quiet, run wrk -d DURATION, record the result line
measure() {
  local name=$1 conns=$2 script=$3; shift 3
  local out="$WORK/wrk-$name.txt" c0 c1 s0 s1 line bg
  wait_quiet
  wait_idle "$name"; bg=$BG
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
  record "$RESULT"
  WRK_LINE=$line
}

warmup() {  # warmup CONNS LUA [wrk args] : short unmeasured run
  [ "$WARMUP" -gt 0 ] || return 0
  local conns=$1 script=$2; shift 2
  wait_quiet
  timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$conns" -d"${WARMUP}s" -s "$script" "$@" >/dev/null 2>&1 || true
}

# load_history NAME KEY COUNT CONNS : COUNT more versions of KEY (different values), records
# "chronoconf NAME_rps=<versions/s> key_versions=... head_revision=... wall_s=...".
# wrk has no request count and waits out -d even when the Lua script stops its thread at its
# quota, so it loads in chunks sized from the rate so far (at most 300 s in all).
load_history() {
  local name=$1 key=$2 count=$3 conns=$4
  wait_quiet
  local h0 left=$count chunk=3 t0 tries=0 done_n el head_rev head_ver
  h0=$(status_field revision); t0=$(date +%s.%N)
  log "+ repeat: wrk -t$WRK_THREADS -c$conns -d<chunk>s -s cc-put-history.lua $URL -- $key <left> $WRK_THREADS  (until $count versions)"
  while [ "$left" -gt 0 ] && [ "$tries" -lt 40 ]; do
    tries=$((tries + 1))
    timeout $((chunk + 60)) wrk -t"$WRK_THREADS" -c"$conns" -d"${chunk}s" --timeout 10s -s "$BENCH_LUA/cc-put-history.lua" \
      "$URL" -- "$key" "$left" "$WRK_THREADS" > "$WORK/wrk-history.txt" 2>&1 || { log "history load failed"; cat "$WORK/wrk-history.txt" >&2; break; }
    done_n=$(( $(status_field revision) - h0 )); left=$(( count - done_n ))
    el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b - a}')
    chunk=$(awk -v l="$left" -v n="$done_n" -v e="$el" 'BEGIN{r = n / e; c = (r > 0) ? int(l / r * 1.1) + 1 : 10; if (c > 60) c = 60; if (c < 1) c = 1; print c}')
    [ "$(awk -v e="$el" 'BEGIN{print (e > 300)}')" = 1 ] && { log "history load: 300 s bound reached"; break; }
  done
  el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
  head_rev=$(status_field revision)
  head_ver=$(curl -s --max-time 10 "$URL/v1/kv/$key" | sed -n 's/.*"version":\([0-9]*\).*/\1/p')
  log "# history load: revisions $h0 -> $head_rev in ${el}s ($tries wrk runs), $key now at version $head_ver"
  record "$(printf 'chronoconf %s_rps=%s key_versions=%s head_revision=%s wall_s=%s conns=%s' \
    "$name" "$(awk -v n="$((head_rev - h0))" -v e="$el" 'BEGIN{printf "%.1f", n / e}')" "$head_ver" "$head_rev" "$el" "$conns")"
}

# run_peer NAME : ../shared/bench/peer-NAME.sh in this session (it starts, loads and stops its own
# servers), its result lines recorded with cc1plus_seen; raw output in OUT.
run_peer() {
  local p=$1
  wait_quiet
  wait_idle "peer-$p"
  log "== run $RUN: $SHARED/peer-$p.sh (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
  mon_start
  timeout 900 "$SHARED/peer-$p.sh" > "$OUT/run$RUN-$p.out" 2> "$OUT/run$RUN-$p.err" || log "peer-$p.sh failed rc=$?, see $OUT/run$RUN-$p.err"
  mon_stop
  grep -E '^(etcd|nginx|postgres|sqlite|disk) [a-z0-9_]+_(rps|tps|ops)=' "$OUT/run$RUN-$p.out" | sed "s/\$/ cc1plus_seen=$CC_SEEN/" \
    | while IFS= read -r line; do record "$line"; done
}
