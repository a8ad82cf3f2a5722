// The write side's decision, without IO: KeyAggregate::Decide for the ops a
// PUT makes (a change, a no-op, a stale expectation), a whole one-op
// transaction through DecideTransaction, and folding a decided event back
// into the state. Run: build-release/bench/aggregate_bench
#include <benchmark/benchmark.h>

#include <string>

#include "domain/key_aggregate.h"

namespace chronoconf {
namespace {

const std::string kKey = "payments/checkout/new-pricing";
const std::string kOld =
    R"({"service":"checkout","feature":"new-pricing","enabled":true,"rollout":25,"owner":"team-a"})";
const std::string kNew =
    R"({"service":"checkout","feature":"new-pricing","enabled":true,"rollout":50,"owner":"team-a"})";

KeyState Existing() { return KeyState{.version = 7, .exists = true, .value = kOld}; }

void BM_DecideSetChanged(benchmark::State& state) {
  KeyState s = Existing();
  Op op = SetKey{kKey, kNew, std::nullopt, false};
  for (auto _ : state) {
    auto decided = KeyAggregate::Decide(s, op);
    benchmark::DoNotOptimize(decided);
    if (!decided || !decided->has_value()) state.SkipWithError("expected one event");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideSetChanged);

void BM_DecideSetNoOp(benchmark::State& state) {
  KeyState s = Existing();
  Op op = SetKey{kKey, kOld, std::nullopt, false};
  for (auto _ : state) {
    auto decided = KeyAggregate::Decide(s, op);
    benchmark::DoNotOptimize(decided);
    if (!decided || decided->has_value()) state.SkipWithError("expected a no-op");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideSetNoOp);

void BM_DecideStaleExpectation(benchmark::State& state) {
  KeyState s = Existing();
  Op op = SetKey{kKey, kNew, int64_t{3}, false};
  for (auto _ : state) {
    auto decided = KeyAggregate::Decide(s, op);
    benchmark::DoNotOptimize(decided);
    if (decided) state.SkipWithError("expected a conflict");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideStaleExpectation);

// What a PUT costs the command service to decide: a one-op transaction.
void BM_DecideTransactionOneOp(benchmark::State& state) {
  Transaction txn{{SetKey{kKey, kNew, std::nullopt, false}}, CommitMeta{"bench", {}, {}}};
  auto lookup = [](const std::string&) { return Existing(); };
  for (auto _ : state) {
    auto decided = DecideTransaction(txn, lookup);
    benchmark::DoNotOptimize(decided);
    if (!decided || decided->events.size() != 1) state.SkipWithError("expected one event");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideTransactionOneOp);

// A transaction of `n` distinct keys (the txn limit is 1000 ops).
void BM_DecideTransaction(benchmark::State& state) {
  Transaction txn;
  txn.meta.actor = "bench";
  for (int64_t i = 0; i < state.range(0); ++i) {
    txn.ops.push_back(SetKey{kKey + "/" + std::to_string(i), kNew, std::nullopt, false});
  }
  auto lookup = [](const std::string&) { return Existing(); };
  for (auto _ : state) {
    auto decided = DecideTransaction(txn, lookup);
    benchmark::DoNotOptimize(decided);
    if (!decided || decided->events.size() != txn.ops.size()) state.SkipWithError("short");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DecideTransaction)->Arg(10)->Arg(1000);

void BM_ApplyEvent(benchmark::State& state) {
  KeyState s = Existing();
  Event e{EventType::kConfigSet, kKey, 8, kNew, kOld};
  for (auto _ : state) {
    KeyAggregate::Apply(s, e);
    s.version = 7;  // every round applies version 8 again
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyEvent);

}  // namespace
}  // namespace chronoconf

BENCHMARK_MAIN();
