#!/usr/bin/env bash
# Sets up and runs every test, as CI does (.ci/run calls this):
#   1. suite      unit, store contract (memory, SQLite, PostgreSQL), black-box
#                 HTTP and CLI tests against real servers, crash torture
#   2. release    the Release build of the server and the benchmarks, and a smoke run of every
#                 micro-benchmark, of `chronoconf bench load` (+ verify) and of `chronoconf bench
#                 watch` (the tests are built and run in the suite, asan and tsan stages: building
#                 them a fourth time, at -O3, was more than half of this stage)
#   3. asan       the whole suite again, built with AddressSanitizer + UBSan
#   4. tsan       the concurrency tests, built with ThreadSanitizer
#   5. locks      clang -Wthread-safety over src/ (lock annotations)
#   6. fuzz       every libFuzzer target for $FUZZ_SECONDS (default 20) each
#   7. patroni    Patroni (two PostgreSQL 15 nodes) fails over with chronoconf
#                 as its DCS (tests/patroni/failover.py; needs build/chronoconf)
# A throwaway PostgreSQL (scripts/pg-test-cluster.sh) runs for the duration and
# is stopped afterwards, also when a test fails.
#
# Usage: scripts/test.sh [STAGE...]   (default: all stages, in this order)
#        scripts/test.sh suite        (the quick loop while developing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(suite patroni release asan tsan locks fuzz)

# Every package the stages need (the tests', the fuzzers', the e2e tests'),
# on top of what scripts/serve.sh installs.
scripts/setup.sh --no-build
export CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1
export CTEST_OUTPUT_ON_FAILURE=1

# Stop the cluster however the run ends, and keep the exit code.
trap 'rc=$?; BUILD_DIR=build "$ROOT/scripts/pg-test-cluster.sh" stop || true; exit $rc' EXIT
CHRONOCONF_TEST_PG_URL=$(BUILD_DIR=build "$ROOT/scripts/pg-test-cluster.sh" start)
export CHRONOCONF_TEST_PG_URL
echo "test: PostgreSQL at $CHRONOCONF_TEST_PG_URL"

# configure DIR [cmake args...]
configure() {
  local dir=$1; shift
  # Warnings are errors here (a stage may turn it off after: the last -D wins).
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCHRONOCONF_WERROR=ON "$@" >/dev/null
}
stage() { echo; echo "=== test: $1 ($(date +%T))"; }
# run_ctest DIR LOG [ctest args...]: runs ctest in DIR, keeping its output
# for the closing count.
LOGS=()
run_ctest() {
  local dir=$1 log=$2; shift 2
  (cd "$dir" && ctest "$@") 2>&1 | tee "$log"
  LOGS+=("$log")
}

for s in "${STAGES[@]}"; do
  case "$s" in
    suite)
      stage "suite (RelWithDebInfo)"
      # Tests on explicitly (scripts/serve.sh builds the same tree without);
      # the benchmarks are built and run in the release stage.
      configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHRONOCONF_BUILD_TESTS=ON \
        -DCHRONOCONF_BUILD_BENCHMARKS=OFF
      cmake --build build -j"$(nproc)"
      run_ctest build build/ctest.log -j2 --timeout 300
      ;;
    release)
      stage "release build and benchmark smoke run"
      configure build-release -DCMAKE_BUILD_TYPE=Release -DCHRONOCONF_BUILD_TESTS=OFF \
        -DCHRONOCONF_BUILD_BENCHMARKS=ON
      cmake --build build-release -j"$(nproc)"
      # Every micro-benchmark once, briefly (not timed: a smoke run).
      for b in bench/*_bench.cc; do
        name=$(basename "$b" .cc)
        build-release/bench/"$name" --benchmark_min_time=0.01 >/dev/null
      done
      # The load generator and the watch fan-out of bench/run.sh, tiny.
      smoke=$(mktemp -d)
      build-release/chronoconf bench load --store "sqlite:$smoke/events.db" --events 2000 --keys 100 >/dev/null
      build-release/chronoconf verify --store "sqlite:$smoke/events.db" >/dev/null
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      build-release/chronoconf serve --store memory: --listen "127.0.0.1:$port" --log-level warn &
      serve_pid=$!
      for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
      watch_rc=0
      timeout 60 build-release/chronoconf bench watch --server "http://127.0.0.1:$port" --watchers 20 \
        --writes 5 --interval-ms 10 >/dev/null || watch_rc=$?
      kill -TERM "$serve_pid" || true; wait "$serve_pid" || true
      rm -rf "$smoke"
      [ "$watch_rc" -eq 0 ] || { echo "test: bench watch smoke run failed ($watch_rc)" >&2; exit 1; }
      echo "test: release build, benchmarks, bench load/verify and bench watch ok"
      ;;
    asan)
      stage "suite under AddressSanitizer + UBSan"
      # (GCC's flow warnings are unreliable under -fsanitize, e.g. a false
      # -Wmaybe-uninitialized inside std::regex: the sanitizer builds warn
      # without failing; the suite and release stages keep -Werror.)
      configure build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DCHRONOCONF_WERROR=OFF \
        -DCHRONOCONF_SANITIZE=address,undefined -DCHRONOCONF_BUILD_BENCHMARKS=OFF
      cmake --build build-asan -j"$(nproc)"
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        CHRONOCONF_TORTURE_ROUNDS=3 run_ctest build-asan build-asan/ctest.log -j2 --timeout 600
      ;;
    tsan)
      stage "concurrency tests under ThreadSanitizer"
      configure build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DCHRONOCONF_WERROR=OFF \
        -DCHRONOCONF_SANITIZE=thread -DCHRONOCONF_BUILD_BENCHMARKS=OFF
      cmake --build build-tsan -j"$(nproc)"
      TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 CHRONOCONF_TORTURE_ROUNDS=2 \
        run_ctest build-tsan build-tsan/ctest.log -j2 --timeout 600 \
        -R 'CommandService|Follower|ReadIndex|Projection|Snapshot|ChangeFeed|TwoInstances|Concurrency|Watch|Multinode|MultiNode|Sigterm|CrashTorture|LeaseCommand|SchemaCommand|ReviewCommand' \
        -E 'Etcd|MultiNodeLease'  # these servers run gRPC, a library ThreadSanitizer cannot see into

      ;;
    locks)
      stage "lock annotations (clang -Wthread-safety)"
      CXX=clang++ configure build-locks -DCMAKE_BUILD_TYPE=Debug -DCHRONOCONF_THREAD_SAFETY=ON \
        -DCHRONOCONF_BUILD_TESTS=OFF -DCHRONOCONF_BUILD_BENCHMARKS=OFF
      cmake --build build-locks -j"$(nproc)"
      echo "test: lock annotations hold"
      ;;
    fuzz)
      stage "fuzzers"
      scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
      ;;
    patroni)
      stage "Patroni failover on chronoconf"
      [ -x build/chronoconf ] || { configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo; cmake --build build -j"$(nproc)" --target chronoconf; }
      timeout 300 python3 tests/patroni/failover.py --chronoconf build/chronoconf
      ;;
    *)
      echo "test: unknown stage '$s' (suite patroni release asan tsan locks fuzz)" >&2
      exit 2
      ;;
  esac
done
echo
echo "=== test: all stages passed: ${STAGES[*]} ($(date +%T))"
# The tests of every stage, counted once at the end (each ctest run above
# printed its own count).
passed=0; failed=0
for log in "${LOGS[@]}"; do
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  [ -z "$line" ] && continue
  total=${line##* }
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - f)); failed=$((failed + f))
done
echo "tests: $passed passed, $failed failed"
