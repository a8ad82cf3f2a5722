#!/usr/bin/env bash
# Runs the ```sh blocks of a document's tour against a fresh server and checks
# exit codes and key outputs, so that the README (and docs/TUTORIAL.md) run
# as written.
#
#   scripts/run-tour.sh BIN README.md       # the "A five-minute tour" section
#   scripts/run-tour.sh BIN README.md#etcd  # the "Using etcd clients" section
#   scripts/run-tour.sh BIN docs/TUTORIAL.md
#
# Each command (backslash continuations joined) runs from the repository root
# with `localhost:7700` pointed at the fresh server and `build/chronoconf` at
# BIN; every one must exit 0. Then the checks for that document run against
# the output of the commands they name. Exit 0 when all pass.
set -u -o pipefail

BIN=$(realpath "$1")
DOC=${2%%#*}
PART=
[[ $2 == *#* ]] && PART=${2#*#}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chronoconf-tour.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A fresh store on a free port (port 0: the log line names the real one);
# the etcd section's on a free etcd port too, in place of 2379.
ETCD_ARGS=()
ETCD_PORT=
if [[ $PART == etcd ]]; then
  ETCD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ETCD_ARGS=(--etcd-listen "127.0.0.1:$ETCD_PORT")
  # The clients as Debian installs them (python3-etcd3 is /usr/bin/python3's).
  export PATH=/usr/bin:$PATH
fi
"$BIN" serve --store memory: --listen 127.0.0.1:0 --log-level info "${ETCD_ARGS[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's|.* on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$WORK/server.log" | head -1)
  [[ -n $PORT ]] && curl -sf "127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
[[ -n $PORT ]] || { echo "the server did not start:"; cat "$WORK/server.log"; exit 1; }
export CHRONOCONF_SERVER="http://127.0.0.1:$PORT" NO_COLOR=1
unset CHRONOCONF_TOKEN

# The ```sh blocks, of the tour section only for the README.
SECTION="A five-minute tour"
[[ $PART == etcd ]] && SECTION="Using etcd clients"
awk -v readme="$([[ $(basename "$DOC") == README.md ]] && echo 1)" -v section="$SECTION" '
  /^## / { in_section = !readme || index($0, "## " section) == 1 }
  /^```sh$/ { if (in_section) { in_block = 1; next } }
  /^```$/ { if (in_block) { in_block = 0; print "#END-OF-BLOCK" } next }
  in_block { print }
' "$DOC" >"$WORK/blocks.sh"

# One command per entry: continuations joined, comments and blank lines out.
commands=()
current=
while IFS= read -r line; do
  [[ $line == "#END-OF-BLOCK" ]] && continue
  if [[ -z $current && ( $line =~ ^[[:space:]]*# || -z ${line// /} ) ]]; then continue; fi
  if [[ $line == *\\ ]]; then current+="${line%\\} "; continue; fi
  commands+=("$current$line")
  current=
done <"$WORK/blocks.sh"
[[ ${#commands[@]} -gt 0 ]] || { echo "no sh blocks found in $DOC"; exit 1; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

C=$BIN
outputs=()
for i in "${!commands[@]}"; do
  cmd=${commands[$i]//localhost:7700/127.0.0.1:$PORT}
  [[ -n $ETCD_PORT ]] && cmd=${cmd//127.0.0.1:2379/127.0.0.1:$ETCD_PORT}
  cmd=${cmd//build\/chronoconf/$BIN}
  out=$(timeout 20 bash -c "C='$BIN'; $cmd" 2>&1)
  rc=$?
  outputs+=("$out")
  printf '$ %s\n%s\n' "${commands[$i]}" "$out"
  [[ $rc -eq 0 ]] || fail "exit $rc: ${commands[$i]}"
done

# The output of the first command whose text contains $1.
output_of() {
  for i in "${!commands[@]}"; do
    if [[ ${commands[$i]} == *"$1"* ]]; then printf '%s' "${outputs[$i]}"; return; fi
  done
  fail "no command contains '$1'"
}
expect_in() {  # expect_in COMMAND-SUBSTRING TEXT
  local out; out=$(output_of "$1")
  [[ $out == *"$2"* ]] || fail "'$1' should print '$2', printed: $out"
}
expect_lines() {  # expect_lines COMMAND-SUBSTRING PATTERN N: at least N lines match
  local n; n=$(output_of "$1" | grep -c -- "$2")
  [[ $n -ge $3 ]] || fail "'$1' should print $3 lines matching '$2', printed $n"
}

case $(basename "$DOC")#$PART in
  README.md#etcd)
    expect_in 'get app/ --prefix' 'db1.internal'
    expect_in 'import etcd3' 'on'
    expect_in 'put_get.go' 'v2 at revision'
    expect_in 'put_get.js' 'eu-west'
    expect_in 'chronoconf log' 'deploy-bot'
    expect_in 'chronoconf log' 'roll out v2'
    expect_in '/v3/kv/range' '"kvs":[{"key":"'
    ;;
  README.md#)
    expect_in '"first setting"' '"revision":1,'
    expect_in '"holiday peak"' '"revision":2,'
    expect_in 'timeout_ms?at_revision=1' '"value":1000'
    expect_in "diff?from_revision=1" '"changed":[{"key":"payments/timeout_ms"'
    expect_in '/v1/revisions/2' '"hash":"'
    expect_in '"peak is over"' '"revision":3,"changed":true'
    expect_in 'set payments/retries 3' 'revision 4'
    expect_in 'set payments/retries 5' 'revision 5'
    expect_in 'get payments/retries --at 4' '3'
    expect_in 'get payments/retries --at-time' 'not there an hour ago'
    expect_in 'diff 4' 'payments/retries'
    expect_in 'revert 4' 'revision 6'
    expect_lines 'log --actor alice' 'alice' 2
    expect_in 'export --format env' 'PAYMENTS_RETRIES=3'
    expect_in 'export --format env' 'PAYMENTS_TIMEOUT_MS=1000'
    expect_lines 'watch payments/' 'payments/' 3
    ;;
  TUTORIAL.md#)
    [[ -f "$ROOT/docs/tutorial-checks.sh" ]] && source "$ROOT/docs/tutorial-checks.sh"
    ;;
esac

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed; server log:"; cat "$WORK/server.log"
  exit 1
fi
echo "tour OK: ${#commands[@]} commands"
