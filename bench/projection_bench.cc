// The read model's hot paths: a GET of the current entry, a GET at an old
// revision of a key with a long history (binary search), and folding a
// commit in. Run: build/bench/projection_bench
#include <benchmark/benchmark.h>

#include <cstdlib>

#include <fmt/format.h>

#include "projection/projection.h"

namespace chronoconf {
namespace {

RecordedCommit SetCommit(int64_t revision, const std::string& key, int64_t version) {
  RecordedCommit c;
  c.revision = revision;
  c.timestamp_us = revision;
  c.meta.actor = "bench";
  // The read model keeps each hash as 32 bytes, so it needs one (not a chain).
  c.hash = fmt::format("{:064x}", revision);
  std::optional<std::string> prev;
  if (version > 1) prev = std::to_string(version - 1);
  c.events.push_back({EventType::kConfigSet, key, version, std::to_string(version), prev});
  return c;
}

// One key with `n` versions.
Projection& LongHistory(int64_t n) {
  static std::map<int64_t, std::unique_ptr<Projection>> cache;
  auto& p = cache[n];
  if (!p) {
    p = std::make_unique<Projection>();
    for (int64_t r = 1; r <= n; ++r) {
      if (!p->Apply(SetCommit(r, "payments/timeout_ms", r)).ok()) std::abort();  // revisions follow
    }
  }
  return *p;
}

void BM_GetHead(benchmark::State& state) {
  Projection& p = LongHistory(state.range(0));
  for (auto _ : state) {
    auto v = p.Get("payments/timeout_ms");
    benchmark::DoNotOptimize(v->entry->size());
  }
}
BENCHMARK(BM_GetHead)->Arg(1)->Arg(100000);

void BM_GetAtOldRevision(benchmark::State& state) {
  Projection& p = LongHistory(state.range(0));
  for (auto _ : state) {
    auto v = p.Get("payments/timeout_ms", 2);
    benchmark::DoNotOptimize(v->entry->size());
  }
}
BENCHMARK(BM_GetAtOldRevision)->Arg(1000)->Arg(100000);

void BM_ResolveTime(benchmark::State& state) {
  Projection& p = LongHistory(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(p.Resolve(std::nullopt, 2).value());
}
BENCHMARK(BM_ResolveTime)->Arg(100000);

void BM_ApplyCommit(benchmark::State& state) {
  Projection p;
  int64_t r = 0;
  for (auto _ : state) {
    ++r;
    if (!p.Apply(SetCommit(r, "k" + std::to_string(r % 1000), r / 1000 + 1)).ok()) {
      state.SkipWithError("Apply refused a commit");
      break;
    }
  }
}
BENCHMARK(BM_ApplyCommit);

}  // namespace
}  // namespace chronoconf

BENCHMARK_MAIN();
