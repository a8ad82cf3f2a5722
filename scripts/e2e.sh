#!/usr/bin/env bash
# Runs the web console's end-to-end tests (tests/e2e): playwright-core (npm,
# from tests/e2e/package-lock.json) drives Debian's chromium headless against
# real `chronoconf serve` processes that the tests start on loopback. Builds
# nothing; installs what is missing (chromium, node and npm from Debian with
# apt-get, the npm packages with `npm ci`). The tests also take screenshots
# of the main views.
#
# Usage: scripts/e2e.sh [--screenshots] [--ui-from-tree] [PATH/TO/chronoconf]
#   (default binary: build/chronoconf; screenshots go to tests/e2e/artifacts/,
#   with --screenshots to docs/screenshots/, the ones the README shows;
#   --ui-from-tree serves the console's files from ./ui instead of the copy
#   compiled into the binary, to try a change to ui/ without a C++ build)
# When something cannot be set up this fails if $CI is set (or
# CHRONOCONF_E2E_REQUIRED=1) and skips (exit 77, a ctest skip) otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    --screenshots) export CHRONOCONF_SCREENSHOT_DIR=$ROOT/docs/screenshots; shift ;;
    --ui-from-tree) export CHRONOCONF_UI_DIR=$ROOT/ui; shift ;;
    *) break ;;
  esac
done
BIN=${1:-build/chronoconf}

unavailable() {
  if [ -n "${CI:-}" ] || [ "${CHRONOCONF_E2E_REQUIRED:-}" = 1 ]; then
    echo "e2e: FAILED: $1" >&2
    exit 1
  fi
  echo "e2e: SKIPPED: $1 (set CI=1 to make this a failure)" >&2
  exit 77
}

[ -x "$BIN" ] || { echo "e2e: no chronoconf binary at $BIN (build it first)" >&2; exit 1; }
BIN=$(realpath "$BIN")

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
install_missing() {
  [ $# -eq 0 ] && return 0
  echo "e2e: installing $* (apt-get)"
  { as_root apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2 ||
    unavailable "cannot install $* with apt-get"
}
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
install_missing "${missing[@]}"
# Some node packages bring npm along; Debian's nodejs does not.
command -v npm >/dev/null || install_missing npm
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || unavailable "playwright-core needs node 20 or later (found $(node --version))"
CHROMIUM=${CHROMIUM:-$(command -v chromium)}
export CHROMIUM

cd "$ROOT/tests/e2e"
npm ci --no-audit --no-fund --loglevel=error >&2 || unavailable "npm ci failed in tests/e2e"

echo "e2e: $BIN with $("$CHROMIUM" --version 2>/dev/null | tail -n 1), node $(node --version)"
CHRONOCONF_BIN=$BIN node --test json.test.mjs console.test.mjs
