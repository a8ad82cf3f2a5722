// Start-up replay: folding a batch of recorded commits into a fresh read
// model, as `serve` does from the store before /readyz turns 200. Each
// commit is one ConfigSet of a ~100-byte value (what `chronoconf bench load`
// writes), over `keys` keys taking turns. Items are commits (= events), so
// items_per_second is the replay rate the start-up target (≥ 500k events/s)
// is about, minus the store's read. Uses only Projection::Apply and Get.
// Run: build-release/bench/replay_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "projection/projection.h"
#include "store/commit_hash.h"

namespace chronoconf {
namespace {

// `n` commits over `keys` keys, chained and hashed like a store's.
const std::vector<RecordedCommit>& Commits(int64_t n, int64_t keys) {
  static std::map<std::pair<int64_t, int64_t>, std::vector<RecordedCommit>> cache;
  auto& out = cache[{n, keys}];
  if (!out.empty()) return out;
  std::vector<std::optional<std::string>> values(static_cast<size_t>(keys));
  std::vector<int64_t> versions(static_cast<size_t>(keys), 0);
  std::string prev = kZeroHash;
  for (int64_t r = 1; r <= n; ++r) {
    size_t k = static_cast<size_t>((r - 1) % keys);
    CommitData d;
    d.meta.actor = "bench";
    d.meta.request_id = fmt::format("{:032x}", r);
    std::string value = fmt::format(
        R"({{"service":"svc-{:03}","feature":"flag-{:05}","enabled":true,"rollout":{},"seq":{},"note":"abcdefg"}})",
        k % 1000, k, r % 101, r);
    d.events.push_back({EventType::kConfigSet, fmt::format("bench/load/k{:05}", k),
                        ++versions[k], value, values[k]});
    values[k] = value;
    out.push_back(SealCommit(d, r, 1796220000000000 + r, 1796220000000000 + r - 1, prev));
    prev = out.back().hash;
  }
  return out;
}

void BM_ReplayCommits(benchmark::State& state) {
  const auto& commits = Commits(state.range(0), state.range(1));
  for (auto _ : state) {
    state.PauseTiming();
    auto p = std::make_unique<Projection>();
    std::vector<RecordedCommit> batch = commits;  // Apply takes each by value
    state.ResumeTiming();
    for (RecordedCommit& c : batch) {
      if (!p->Apply(std::move(c)).ok()) {
        state.SkipWithError("Apply refused a commit");
        break;
      }
    }
    auto got = p->Get("bench/load/k00000");
    if (!got) state.SkipWithError("key missing after replay");
    benchmark::DoNotOptimize(got);
    state.PauseTiming();
    p.reset();  // the teardown is not part of a start-up
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
// 1000 commits on 10 and on 1000 keys; 100k commits on 10k keys (the
// start-up benchmark's shape, a tenth of its size).
BENCHMARK(BM_ReplayCommits)->Args({1000, 10})->Args({1000, 1000})->Args({100000, 10000})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace chronoconf

BENCHMARK_MAIN();
