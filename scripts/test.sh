#!/usr/bin/env bash
# Sets up, builds and runs every test: unit, store contract (memory, SQLite),
# and black-box integration tests against a real server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure -j2 --timeout 300 "$@"
