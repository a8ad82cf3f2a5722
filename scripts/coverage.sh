#!/usr/bin/env bash
# Line coverage of src/ (gcovr): builds an instrumented tree in
# ./build-coverage, runs every test, and prints the summary; an HTML report
# goes to build-coverage/coverage.html.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
cmake -S . -B build-coverage -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCHRONOCONF_COVERAGE=ON \
  -DCHRONOCONF_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-coverage -j"$(nproc)"
find build-coverage -name '*.gcda' -delete
(cd build-coverage && ctest -j2 --timeout 300 --output-on-failure)
# Threads racing on a line's counter can leave a negative count, which gcov
# prints and gcovr cannot parse: such lines are skipped (said on stderr).
gcovr -r . --filter 'src/' --exclude '.*_test\.cc$' --print-summary --gcov-ignore-parse-errors \
  --html build-coverage/coverage.html build-coverage | tail -n 3
