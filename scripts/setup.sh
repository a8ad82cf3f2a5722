#!/usr/bin/env bash
# Installs what is missing from Debian packages (idempotent), then configures
# and builds chronoconf into $BUILD_DIR (default ./build).
#
# Usage: scripts/setup.sh --serve        what serving needs, and the server only:
#                                        the `chronoconf` target, no tests or
#                                        benchmarks (scripts/serve.sh)
#        scripts/setup.sh [--no-build]   everything the tests, benchmarks, fuzzers,
#                                        coverage and the console's e2e tests need;
#                                        then every target (scripts/test.sh,
#                                        scripts/coverage.sh and scripts/fuzz.sh
#                                        use --no-build and configure their own trees)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=test
build=yes
for a in "$@"; do
  case "$a" in
    --serve) profile=serve ;;
    --no-build) build=no ;;
    *) echo "setup: unknown argument '$a' (--serve, --no-build)" >&2; exit 2 ;;
  esac
done

# Building and running the server.
SERVE_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  ccache                      # rebuilds (and CI's five configurations) hit the cache
  libboost1.81-dev            # Boost.Asio + Boost.Beast (message_generator needs >= 1.80)
  libsqlite3-dev              # embedded store
  libpq-dev                   # PostgreSQL store (the client library; no server)
  rapidjson-dev               # strict JSON parsing that keeps number text
  libcli11-dev libspdlog-dev libfmt-dev
  libssl-dev                  # SHA-256 for the hash chain
  curl                        # the README's tour, a health check
  # The etcd v3 API (src/etcd): gRPC C++ and protoc, and etcd's own .proto
  # files with what they import, generated at build time (cmake/EtcdProtos.cmake).
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  golang-etcd-server-dev golang-github-gogo-protobuf-dev golang-github-gogo-googleapis-dev
)
# Only the tests (scripts/test.sh), benchmarks, fuzzers and coverage need these.
TEST_PACKAGES=(
  nlohmann-json3-dev          # JSON in the tests
  libgtest-dev libgmock-dev libbenchmark-dev
  sqlite3 python3 procps      # the black-box tests edit a store, run docs/verify_chain.py
  gcovr                       # scripts/coverage.sh
  clang libclang-rt-14-dev    # fuzzers (libFuzzer) and -Wthread-safety
  libasan8 libubsan1 libtsan2 # sanitizer runtimes for GCC
  postgresql                  # a throwaway server for the tests (scripts/pg-test-cluster.sh)
  prometheus                  # promtool checks the /metrics exposition in a test
  chromium fonts-liberation   # the console's e2e tests (scripts/e2e.sh; node and npm below)
  etcd-client python3-etcd3   # etcdctl 3.4 and python-etcd3: the etcd API's tests (tests/integration/etcd_*)
  # The etcd differential tests (tests/etcd_clients/diff.py, and the JSON
  # gateway's in tests/integration/etcd_gateway*_test.cc): the real etcd 3.4
  # to compare with, and Go to build the clientv3 scenario offline in GOPATH
  # mode. clientv3 and every package it imports (grpc, genproto, gogo, zap,
  # x/net, ...) come with golang-etcd-server-dev (the serve profile) and its
  # dependencies: /usr/share/gocode has all of them.
  etcd-server golang-go
  patroni bc                  # scripts/test.sh's patroni stage (tests/patroni/failover.sh)
  python3-etcd3gw             # a JSON-gateway client (etcd_gateway_python_test.cc)
  openssl                     # a throwaway certificate for the etcd port's TLS test
)

PACKAGES=("${SERVE_PACKAGES[@]}")
[ "$profile" = test ] && PACKAGES+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm by command, as scripts/e2e.sh checks them: a node from another
# package (one that bundles npm and conflicts with Debian's npm) is kept.
if [ "$profile" = test ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm etcd3 client of the etcd differential tests, as its lock file pins it.
# (Again whenever package-lock.json changes: a copy of it marks the install.)
if [ "$profile" = test ] && ! cmp -s tests/etcd_clients/node/package-lock.json \
     tests/etcd_clients/node/node_modules/.installed-package-lock.json; then
  echo "setup: npm ci in tests/etcd_clients/node (npm etcd3)"
  (cd tests/etcd_clients/node && npm ci --no-audit --no-fund --loglevel=error &&
   cp package-lock.json node_modules/.installed-package-lock.json)
fi

[ "$build" = no ] && exit 0
BUILD_DIR=${BUILD_DIR:-build}
# Paths relative to the checkout, so that another clone hits the same cache.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [ "$profile" = serve ]; then
  # The options are set both ways explicitly: a tree configured by the other
  # profile keeps its cache, and GTest/Benchmark are not looked for.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCHRONOCONF_WERROR=ON \
    -DCHRONOCONF_BUILD_TESTS=OFF -DCHRONOCONF_BUILD_BENCHMARKS=OFF ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target chronoconf
else
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCHRONOCONF_WERROR=ON \
    -DCHRONOCONF_BUILD_TESTS=ON -DCHRONOCONF_BUILD_BENCHMARKS=ON ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)"
fi
