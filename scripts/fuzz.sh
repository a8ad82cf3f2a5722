#!/usr/bin/env bash
# Fuzzes the JSON parser (fuzz/json_value_fuzz.cc) with libFuzzer under
# AddressSanitizer and UBSan for N seconds (default 60). Needs clang.
# (pointer-overflow is off: RapidJSON's stack does arithmetic on a null
# pointer before its first allocation, which is harmless.)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus"
printf '{"value": {"a" : [1.50, "caf\\u00e9", null, true]}}' > "$out/corpus/seed1.json"
clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize=pointer-overflow -Isrc \
  fuzz/json_value_fuzz.cc src/json/json_value.cc src/common/status.cc \
  -lfmt -o "$out/json_value_fuzz"
"$out/json_value_fuzz" -max_total_time="$seconds" -max_len=4096 "$out/corpus"
