#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ (clang, AddressSanitizer + UBSan) for
# SECONDS each (default 60), starting from the seed corpus in the repo
# (fuzz/corpus/<target>/), with new inputs kept in build-fuzz/corpus/<target>.
# A crash stops the run with the input in build-fuzz/crashes/; add it to the
# seed corpus and a regression test. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build   # clang and libclang-rt, when run on its own
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCHRONOCONF_BUILD_FUZZERS=ON \
  -DCHRONOCONF_SANITIZE=address,undefined -DCHRONOCONF_BUILD_TESTS=OFF \
  -DCHRONOCONF_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
  name=${t%_fuzz}
  bin=build-fuzz/fuzz/$t
  [ -x "$bin" ] || { echo "fuzz: $bin was not built" >&2; exit 1; }
  mkdir -p "build-fuzz/corpus/$name"
  echo "fuzz: $t for ${seconds}s"
  rc=0
  "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t-" \
    "build-fuzz/corpus/$name" "fuzz/corpus/$name" > "build-fuzz/$t.log" 2>&1 || rc=$?
  grep -E "stat::number_of_executed_units|stat::peak_rss|Done [0-9]+ runs" "build-fuzz/$t.log" |
    tr '\n' ' ' || true
  echo "corpus $(ls "build-fuzz/corpus/$name" | wc -l) inputs"
  if [ "$rc" -ne 0 ] || ls build-fuzz/crashes/"$t"-* >/dev/null 2>&1; then
    tail -n 40 "build-fuzz/$t.log"
    echo "fuzz: $t failed (exit $rc); the input is in build-fuzz/crashes/" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets, no crash"
