#!/usr/bin/env bash
# Sets up, builds and runs every test: unit, store contract (memory, SQLite,
# PostgreSQL) and black-box integration tests against a real server on loopback.
# A throwaway PostgreSQL (scripts/pg-test-cluster.sh) runs for the duration and
# is stopped afterwards, also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
ROOT=$(pwd)
# Stop the cluster however the run ends, and keep ctest's exit code.
trap 'rc=$?; "$ROOT/scripts/pg-test-cluster.sh" stop || true; exit $rc' EXIT
CHRONOCONF_TEST_PG_URL=$("$ROOT/scripts/pg-test-cluster.sh" start)
export CHRONOCONF_TEST_PG_URL
echo "test: PostgreSQL at $CHRONOCONF_TEST_PG_URL"
cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 300 "$@"
