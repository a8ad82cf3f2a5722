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
trap 'scripts/pg-test-cluster.sh stop' EXIT
CHRONOCONF_TEST_PG_URL=$(scripts/pg-test-cluster.sh start)
export CHRONOCONF_TEST_PG_URL
echo "test: PostgreSQL at $CHRONOCONF_TEST_PG_URL"
cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 300 "$@"
