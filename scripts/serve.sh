#!/usr/bin/env bash
# Installs what serving needs (compiler, CMake, Boost, SQLite, libpq,
# RapidJSON, CLI11, spdlog/fmt, OpenSSL: scripts/setup.sh --serve), builds
# the `chronoconf` target only (no tests, no benchmarks) into $BUILD_DIR
# (default ./build) and starts it on the default SQLite store
# (./chronoconf-data/events.db) at http://127.0.0.1:7700. Extra arguments go
# to `chronoconf serve`. The tests' packages and targets are
# scripts/test.sh's business.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --serve
exec "${BUILD_DIR:-build}/chronoconf" serve "$@"
