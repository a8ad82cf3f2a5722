// The bytes every commit is hashed over (SPEC §1.1) and the chain itself:
// CommitBytes (the event encoding), ComputeCommitHash (SHA-256 over the
// previous hash and those bytes) and SealCommit (what a store does to each
// commit it appends), for one event of a ~100-byte value and for a
// transaction of 100 events. Run: build-release/bench/commit_hash_bench
#include <benchmark/benchmark.h>

#include <string>

#include "store/commit_hash.h"

namespace chronoconf {
namespace {

const std::string kValue =
    R"({"service":"checkout","feature":"new-pricing","enabled":true,"rollout":25,"owner":"team-payments"})";

CommitData Data(int64_t events) {
  CommitData d;
  d.meta.actor = "alice";
  d.meta.reason = "raise the rollout for the holiday peak";
  d.meta.request_id = "6f1c2a9e0b7d4c3f8e5a1b2c3d4e5f60";
  for (int64_t i = 0; i < events; ++i) {
    d.events.push_back({EventType::kConfigSet, "payments/checkout/k" + std::to_string(i), 42,
                        kValue, kValue});
  }
  return d;
}

RecordedCommit Recorded(int64_t events) {
  return SealCommit(Data(events), 123456, 1796220000123456, 1796220000000000, kZeroHash);
}

void BM_CommitBytes(benchmark::State& state) {
  RecordedCommit c = Recorded(state.range(0));
  int64_t bytes = 0;
  for (auto _ : state) {
    std::string b = CommitBytes(c);
    bytes += static_cast<int64_t>(b.size());
    benchmark::DoNotOptimize(b.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));  // events encoded
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_CommitBytes)->Arg(1)->Arg(100);

void BM_ComputeCommitHash(benchmark::State& state) {
  RecordedCommit c = Recorded(state.range(0));
  for (auto _ : state) {
    std::string h = ComputeCommitHash(c);
    benchmark::DoNotOptimize(h.data());
    if (h != c.hash) state.SkipWithError("hash does not recompute");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ComputeCommitHash)->Arg(1)->Arg(100);

void BM_SealCommit(benchmark::State& state) {
  CommitData d = Data(state.range(0));
  std::string prev = kZeroHash;
  int64_t revision = 0;
  for (auto _ : state) {
    ++revision;
    RecordedCommit c = SealCommit(d, revision, 1796220000000000 + revision, 0, prev);
    prev = c.hash;  // a real chain: each commit follows the last
    benchmark::DoNotOptimize(prev.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SealCommit)->Arg(1)->Arg(100);

void BM_CheckRecordedCommit(benchmark::State& state) {
  RecordedCommit c = Recorded(1);
  for (auto _ : state) {
    Status s = CheckRecordedCommit(c, c.revision - 1, c.prev_hash, c.timestamp_us - 1);
    if (!s.ok()) state.SkipWithError("check failed");
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckRecordedCommit);

}  // namespace
}  // namespace chronoconf

BENCHMARK_MAIN();
