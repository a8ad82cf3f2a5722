#!/usr/bin/env bash
# bench/put_profile.sh BIN STORE_URL: durable PUT, 64 connections (wrk, bench/lua/cc-put.lua), on a
# fresh server over STORE_URL (sqlite:FILE or a PostgreSQL URL) at the default log level. Prints
# req/s, the group-commit batch size, the append time per batch and its share of the wall time
# (the server's own histograms), and the server's CPU time per PUT (/proc). Not a test.
set -uo pipefail
BIN=$1; STORE=$2; SECS=${SECS:-5}
OUT=$(mktemp -d); WORK=$OUT
source "$(dirname "$0")/lib.sh"
trap 'bench_cleanup; rm -rf "$WORK"' EXIT
start_server "$STORE"
histograms() {  # sum and count of the batch size and of the append time
  curl -sf --max-time 10 "$URL/metrics" |
    grep -E "^chronoconf_(group_commit_batch_commits|store_append_duration_seconds)_(sum|count)" |
    awk '{print $2}' | tr '\n' ' '
}
wrk -t1 -c64 -d2s -s "$BENCH_LUA/cc-put.lua" "$URL" -- "warm/$RANDOM/" > /dev/null
a=$(histograms); c0=$(cpu_ticks "$SERVER_PID")
n=$(wrk -t1 -c64 -d"${SECS}s" -s "$BENCH_LUA/cc-put.lua" "$URL" -- "run/$RANDOM/" | awk '/requests in/ {print $1}')
c1=$(cpu_ticks "$SERVER_PID"); b=$(histograms)
echo "$a / $b" | awk -v n="$n" -v s="$SECS" -v cpu=$((c1 - c0)) -v hz="$HZ" '{
  printf "PUT c64: %d req/s; batch %.1f commits; append %.2f ms per batch (%.0f%% of the wall time); server CPU %d us/PUT\n",
    n / s, ($6 - $1) / ($7 - $2), ($8 - $3) / ($9 - $4) * 1000, ($8 - $3) / s * 100, cpu * 1e6 / hz / n }'
