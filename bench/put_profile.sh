#!/usr/bin/env bash
# bench/put_profile.sh BIN STORE_URL: durable PUT, 64 connections (wrk, bench/lua/cc-put.lua), on a
# fresh server over STORE_URL (sqlite:FILE or a PostgreSQL URL) at the default log level. Prints
# req/s, the group-commit batch size, the append time per batch and its share of the wall time
# (the server's own histograms), and the server's CPU time per PUT (/proc). Not a test.
set -uo pipefail
BIN=$1; URL=$2; PORT=${PORT:-18387}; SECS=${SECS:-5}
LUA=$(cd "$(dirname "$0")" && pwd)/lua/cc-put.lua
DIR=$(mktemp -d)
"$BIN" serve --store "$URL" --listen "127.0.0.1:$PORT" > "$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2> /dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.1; done
metrics() {
  curl -s "127.0.0.1:$PORT/metrics" |
    grep -E "^chronoconf_(group_commit_batch_commits|store_append_duration_seconds)_(sum|count)" |
    awk '{print $2}' | tr '\n' ' '
}
TCK=$(getconf CLK_TCK)
wrk -t1 -c64 -d2s -s "$LUA" "http://127.0.0.1:$PORT" -- "warm/$RANDOM/" > /dev/null
a=$(metrics); c0=$(awk '{print $14+$15}' "/proc/$PID/stat")
n=$(wrk -t1 -c64 -d"${SECS}s" -s "$LUA" "http://127.0.0.1:$PORT" -- "run/$RANDOM/" | awk '/requests in/ {print $1}')
c1=$(awk '{print $14+$15}' "/proc/$PID/stat"); b=$(metrics)
echo "$a / $b" | awk -v n="$n" -v s="$SECS" -v cpu=$((c1 - c0)) -v tck="$TCK" '{
  printf "PUT c64: %d req/s; batch %.1f commits; append %.2f ms per batch (%.0f%% of the wall time); server CPU %d us/PUT\n",
    n / s, ($6 - $1) / ($7 - $2), ($8 - $3) / ($9 - $4) * 1000, ($8 - $3) / s * 100, cpu * 1e6 / tck / n }'
