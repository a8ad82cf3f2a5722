#!/usr/bin/env bash
# Sets up, builds and starts chronoconf on the default SQLite store
# (./chronoconf-data/events.db) at http://127.0.0.1:7700. Extra arguments go
# to `chronoconf serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/chronoconf serve "$@"
