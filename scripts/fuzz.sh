#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ (clang, AddressSanitizer + UBSan) for
# SECONDS each (default 60), starting from the seed corpus in the repo
# (fuzz/corpus/<target>/), with new inputs kept in build-fuzz/corpus/<target>.
# A crash stops the run with the input in build-fuzz/crashes/; add it to the
# seed corpus and a regression test. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
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
  mkdir -p "build-fuzz/corpus/$name"
  echo "fuzz: $t for ${seconds}s"
  "build-fuzz/$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t-" \
    "build-fuzz/corpus/$name" "fuzz/corpus/$name" 2>&1 | tail -n 12 | grep -E "stat::|Done|ERROR|SUMMARY" || true
  if ls build-fuzz/crashes/"$t"-* >/dev/null 2>&1; then
    echo "fuzz: $t found a crash: $(ls build-fuzz/crashes/"$t"-*)"
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets, no crash"
