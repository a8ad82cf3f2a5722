#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages (idempotent),
# then configures and builds chronoconf into ./build.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev            # Boost.Asio + Boost.Beast (message_generator needs >= 1.80)
  libsqlite3-dev sqlite3      # embedded store
  libpq-dev                   # PostgreSQL store
  rapidjson-dev               # strict JSON parsing that keeps number text
  nlohmann-json3-dev          # JSON in the tests
  libcli11-dev libspdlog-dev libfmt-dev
  libssl-dev                  # SHA-256 for the hash chain
  libgtest-dev libgmock-dev libbenchmark-dev
  gcovr python3 curl procps
  ccache                      # CI rebuilds five configurations: cache them
  clang libclang-rt-14-dev    # fuzzers (libFuzzer) and -Wthread-safety
  libasan8 libubsan1 libtsan2 # sanitizer runtimes for GCC
  postgresql                  # a throwaway server for the tests (scripts/pg-test-cluster.sh)
  prometheus                  # promtool checks the /metrics exposition in a test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0
BUILD_DIR=${BUILD_DIR:-build}
# Paths relative to the checkout, so that another clone hits the same cache.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
