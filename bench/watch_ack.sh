#!/usr/bin/env bash
# bench/watch_ack.sh BIN [BIN...]: is fan-out off the write path? For each build in turn (pass
# two to alternate them), a SQLite server and `chronoconf bench watch` (WATCHERS streams, a PUT
# every 20 ms). Prints per run:
#   - the PUT acknowledgement p50 the bench client saw (on a 2-core box its own 1,000 streams
#     compete with its PUT thread for the CPU, so this includes the client's wait for a core);
#   - the server-side PUT duration p50/p90, from the access log (request read -> response
#     written), which is what the server's write path costs while the watchers are attached;
#   - the time by which 99 % of the watchers had a write;
#   - the server's CPU time for the run (/proc).
# Run it with WATCHERS=1 for the write path without fan-out. Not a test: it prints figures.
set -uo pipefail
WATCHERS=${WATCHERS:-1000}
WRITES=${WRITES:-200}
BENCH_BIN=${BENCH_BIN:-$1}  # the `bench watch` client (any build)
OUT=$(mktemp -d); WORK=$OUT
source "$(dirname "$0")/lib.sh"
trap 'bench_cleanup; rm -rf "$WORK"' EXIT
for BIN in "$@"; do
  rm -f "$WORK/events.db"* && : > "$WORK/server.log"
  start_server "sqlite:$WORK/events.db" --max-connections 5000
  c0=$(cpu_ticks "$SERVER_PID")
  client=$(timeout 120 "$BENCH_BIN" bench watch --server "$URL" \
    --watchers "$WATCHERS" --writes "$WRITES" --interval-ms 20 2>&1 |
    grep -oE "PUT ack p50 [0-9.]+ ms|99 % of the watchers had it: p50 [0-9.]+ ms, p99 [0-9.]+ ms" |
    paste -sd ';')
  c1=$(cpu_ticks "$SERVER_PID")
  stop_server
  server=$(grep -E 'PUT /v1/kv/\{key\} 20[01] ' "$WORK/server.log" | grep -oE ' [0-9.]+ms ' |
    tr -d 'ms ' | sort -n | awk '{a[NR]=$1} END {if (NR) printf "p50 %.2f ms, p90 %.2f ms (%d PUTs)",
      a[int((NR+1)*0.5)], a[int(NR*0.9)], NR}')
  echo "$(basename "$BIN") watchers=$WATCHERS: client: $client; server-side PUT: $server; server CPU $(( (c1 - c0) * 1000 / HZ )) ms"
done
