#!/usr/bin/env bash
# bench/schema_put.sh: PUT c64 on SQLite with and without a typical schema on the prefix: the
# server's CPU time per PUT (/proc), interleaved pairs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build-release/chronoconf}
LUA=$ROOT/bench/lua/cc-put.lua
PAIRS=${PAIRS:-6}
DIR=$(mktemp -d)
PORT=18777
$BIN serve --store "sqlite:$DIR/events.db" --listen 127.0.0.1:$PORT > $DIR/log 2>&1 &
PID=$!
trap 'kill $PID; rm -rf $DIR' EXIT
for i in $(seq 50); do curl -sf localhost:$PORT/readyz >/dev/null && break; sleep 0.1; done
SCHEMA=$(sed -n '13,17p' $ROOT/bench/json_schema_bench.cc | sed 's/^ *R"(//; s/)"$//; s/)";$//' | tr -d '\n')
curl -sf -XPUT -H 'Content-Type: application/json' "localhost:$PORT/v1/schemas/bench%2Fs%2F" -d "{\"schema\":$SCHEMA}" >/dev/null
cpu() { awk '{print $14+$15}' /proc/$PID/stat; }
TCK=$(getconf CLK_TCK)
run() {
  local prefix=$1 c0 c1 n
  c0=$(cpu)
  n=$(wrk -t2 -c64 -d5s -s $LUA "http://127.0.0.1:$PORT" -- "$prefix" 2>&1 | awk '/requests in/ {print $1}')
  c1=$(cpu)
  echo "scale=1; ($c1-$c0)*1000000/$TCK/$n" | bc
}
for p in $(seq $PAIRS); do
  a=$(run bench/n/$p/); b=$(run bench/s/$p/)
  echo "pair $p: without ${a} us/PUT, with ${b} us/PUT"
done
