#!/usr/bin/env bash
# Patroni (Debian's 3.0.2, etcd3 DCS through the JSON gateway) runs a
# PostgreSQL 15 primary and replica with chronoconf as its DCS, all on
# loopback: it waits for a leader and a replica, writes rows on the primary,
# kills the primary's Patroni and PostgreSQL with SIGKILL, and checks that
# the replica is promoted within Patroni's TTL plus a margin, that the rows
# are there, and that chronoconf's history shows the leader key changing and
# the dead leader's lease expiring (with its actor and reason).
#
# Usage: tests/patroni/failover.sh CHRONOCONF_BIN
# Exit 77 (skip) when patroni or PostgreSQL 15 is missing, unless CI is set.
set -euo pipefail
BIN=$(realpath "$1")
PGBIN=/usr/lib/postgresql/15/bin
TTL=10
MARGIN=10
skip() { echo "SKIP: $1"; if [ -n "${CI:-}" ]; then exit 1; fi; exit 77; }
command -v patroni >/dev/null || skip "patroni is not installed (apt-get install patroni)"
[ -x "$PGBIN/initdb" ] || skip "PostgreSQL 15 is not installed"

DIR=$(mktemp -d /tmp/chronoconf-patroni.XXXXXX)
# initdb refuses root: PostgreSQL and Patroni run as postgres when we are root.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CC_PORT=$(free_port)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # Patroni runs under runuser: its own processes, found by this run's dir.
  for p in $(pgrep -f "patroni $DIR/" || true); do kill -9 "$p" 2>/dev/null || true; done
  for n in 1 2; do
    [ -f "$DIR/pg$n/postmaster.pid" ] && kill -9 "$(head -1 "$DIR/pg$n/postmaster.pid")" 2>/dev/null || true
  done
  rm -rf "$DIR"
}
trap cleanup EXIT

"$BIN" serve --store "sqlite:$DIR/cc.db" --listen "127.0.0.1:$CC_PORT" >"$DIR/cc.log" 2>&1 &
PIDS+=($!)
for n in 1 2; do
  API=$(free_port); PG=$(free_port)
  eval "PG$n=$PG"
  cat >"$DIR/p$n.yml" <<YML
scope: chronoconf-failover
name: pg$n
restapi: {listen: 127.0.0.1:$API, connect_address: 127.0.0.1:$API}
etcd3: {hosts: 127.0.0.1:$CC_PORT, protocol: http}
bootstrap:
  dcs: {ttl: $TTL, loop_wait: 2, retry_timeout: 4, maximum_lag_on_failover: 10485760}
  initdb: [{encoding: UTF8}, {locale: C}]
postgresql:
  listen: 127.0.0.1:$PG
  connect_address: 127.0.0.1:$PG
  data_dir: $DIR/pg$n
  bin_dir: $PGBIN
  pgpass: $DIR/pgpass$n
  authentication:
    superuser: {username: postgres, password: pw}
    replication: {username: repl, password: pw}
  pg_hba: [local all all trust, host all all 127.0.0.1/32 trust, host replication all 127.0.0.1/32 trust]
  parameters: {unix_socket_directories: '$DIR'}
YML
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/p$n.yml"
done
psql_on() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$1" -U postgres -tAqc "$2" 2>/dev/null; }
wait_for() {  # SECONDS COMMAND...: polls every 0.5 s
  local until=$((SECONDS + $1)); shift
  while ! "$@"; do [ $SECONDS -ge $until ] && return 1; sleep 0.5; done
}
is_primary() { [ "$(psql_on "$1" 'select pg_is_in_recovery()')" = "f" ]; }
is_replica() { [ "$(psql_on "$1" 'select pg_is_in_recovery()')" = "t" ]; }

as_pg patroni "$DIR/p1.yml" >"$DIR/patroni1.log" 2>&1 &
P1=$!; PIDS+=($P1)
wait_for 60 is_primary "$PG1" || { tail -20 "$DIR/patroni1.log"; echo "FAIL: no leader"; exit 1; }
as_pg patroni "$DIR/p2.yml" >"$DIR/patroni2.log" 2>&1 &
PIDS+=($!)
wait_for 60 is_replica "$PG2" || { tail -20 "$DIR/patroni2.log"; echo "FAIL: no replica"; exit 1; }
psql_on "$PG1" "create table rows_written(x int); insert into rows_written select generate_series(1, 1000)"
wait_for 60 test "$(psql_on "$PG2" 'select count(*) from rows_written')" = 1000 ||
  { tail -20 "$DIR/patroni2.log"; echo "FAIL: the replica did not catch up"; exit 1; }

# SIGKILL the primary's Patroni (every process of it: runuser, patroni and
# what it forked, found by its config's unique path) and its PostgreSQL.
kill -9 $(pgrep -f "patroni $DIR/p1.yml") "$(head -1 "$DIR/pg1/postmaster.pid")" 2>/dev/null || true
KILLED=$(date +%s.%N)
wait_for $((TTL + MARGIN)) is_primary "$PG2" ||
  { tail -20 "$DIR/patroni2.log"; echo "FAIL: the replica was not promoted within TTL + $MARGIN s"; exit 1; }
FAILOVER=$(echo "$(date +%s.%N) - $KILLED" | bc)
ROWS=$(psql_on "$PG2" "select count(*) from rows_written")
[ "$ROWS" = 1000 ] || { echo "FAIL: the new primary has $ROWS rows, not 1000"; exit 1; }

# The history: the leader key set by pg1, deleted by its lease's expiry
# (actor: the grantor; the reason names the lease), then set by pg2.
curl -sf "http://127.0.0.1:$CC_PORT/v1/events?limit=1000" | python3 -c '
import json, sys
events = json.load(sys.stdin)["events"]
leader = "/service/chronoconf-failover/leader"
changes = [(e["type"], e.get("value"), e.get("reason")) for e in events if e["key"] == leader]
expired = [e for e in events if e["type"] == "LeaseExpired"]
for c in changes: print("leader key:", c)
assert [c[0] for c in changes][:3] == ["ConfigSet", "ConfigDeleted", "ConfigSet"], changes
assert changes[0][1] == "pg1" and changes[2][1] == "pg2", changes
assert changes[1][2] and "expired" in changes[1][2], changes[1]
assert expired and all(e["actor"] and "lease" in e["reason"] for e in expired), expired
print("lease expiries:", len(expired))
'
echo "PASS: pg2 promoted ${FAILOVER} s after the SIGKILL (Patroni TTL ${TTL} s), 1000 rows kept"
