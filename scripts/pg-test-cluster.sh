#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data folder, a free port on
# 127.0.0.1, trust auth, fsync on. Nothing of the machine's own clusters is used.
#
#   scripts/pg-test-cluster.sh start   # prints the URL, writes $BUILD_DIR/pg-test-url
#   scripts/pg-test-cluster.sh url     # prints the URL of the running cluster
#   scripts/pg-test-cluster.sh stop    # stops it and removes its folder
#   scripts/pg-test-cluster.sh stop-server   # stops the server only (data kept): an outage
#   scripts/pg-test-cluster.sh start-server  # starts it again, same port and data
#   scripts/pg-test-cluster.sh freeze-server # SIGSTOP to the server and its backends: a hang
#   scripts/pg-test-cluster.sh thaw-server   # SIGCONT: it goes on where it stopped
#
# BUILD_DIR (default build) holds the state: a test that needs a cluster of its
# own (to stop it under running nodes) passes a private BUILD_DIR.
#
# As root (CI) the server runs as the `postgres` user, which refuses to run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
STATE="$BUILD_DIR/pg-test-cluster.state"   # PGDIR=… and PORT=… of the running cluster
URL_FILE="$BUILD_DIR/pg-test-url"

bindir() {
  local d
  for d in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

ensure_server() {
  if ! bindir >/dev/null; then
    echo "pg-test-cluster: installing the postgresql server" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  BIN=$(bindir) || { echo "pg-test-cluster: no initdb/pg_ctl found" >&2; exit 1; }
}

# Runs a server binary as the user that owns the cluster.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

url_of() { echo "postgresql://postgres@127.0.0.1:$1/postgres"; }

running() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
  ensure_server
  as_owner "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1
}

start() {
  if running; then url_of "$PORT"; return 0; fi
  ensure_server
  mkdir -p "$BUILD_DIR"
  PORT=$(free_port)
  PGDIR="${TMPDIR:-/tmp}/chronoconf-pg-$PORT"
  rm -rf "$PGDIR"
  mkdir -p "$PGDIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PGDIR"
  as_owner "$BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-sync >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; exit 1; }
  printf 'PGDIR=%q\nPORT=%q\n' "$PGDIR" "$PORT" >"$STATE"
  pg_start
  url_of "$PORT" >"$URL_FILE"
  url_of "$PORT"
}

# Starts the server of the cluster in $PGDIR on $PORT.
pg_start() {
  as_owner "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGDIR \
        -c fsync=on -c synchronous_commit=on -c max_connections=300" >/dev/null ||
    { cat "$PGDIR/server.log" >&2; exit 1; }
}

load_state() {
  [ -f "$STATE" ] || { echo "pg-test-cluster: not started" >&2; exit 1; }
  # shellcheck disable=SC1090
  . "$STATE"
  ensure_server
}

stop_server() {
  load_state
  as_owner "$BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null
}

start_server() {
  load_state
  as_owner "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1 || pg_start
}

# signal_server SIG: the postmaster and every process it started.
signal_server() {
  load_state
  local pid
  pid=$(head -1 "$PGDIR/data/postmaster.pid")
  kill -"$1" "$pid" $(pgrep -P "$pid" || true)
}

stop() {
  if [ -f "$STATE" ]; then
    signal_server CONT 2>/dev/null || true  # a frozen server cannot stop
    # shellcheck disable=SC1090
    . "$STATE"
    ensure_server
    as_owner "$BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
    rm -f "$STATE" "$URL_FILE"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  stop-server) stop_server ;;
  start-server) start_server ;;
  freeze-server) signal_server STOP ;;
  thaw-server) signal_server CONT ;;
  url) running && url_of "$PORT" || { echo "pg-test-cluster: not running" >&2; exit 1; } ;;
  *) echo "usage: $0 start|stop|stop-server|start-server|freeze-server|thaw-server|url" >&2
     exit 2 ;;
esac
