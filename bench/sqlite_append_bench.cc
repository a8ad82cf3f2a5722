// The SQLite store's append (SqliteEventStore::Append, the committer's one
// store call per batch): a batch of single-event commits, each a new key
// spread over 64 writers' prefixes as the PUT benchmark writes them, with
// the store's durable settings. The file lives in /dev/shm, where fdatasync
// costs nothing, so the figure is the append's CPU: version checks, row
// inserts, sealing and hashing. Run: build-release/bench/sqlite_append_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "common/clock.h"
#include "store/sqlite_event_store.h"

namespace chronoconf {
namespace {

const std::string kValue =
    R"({"service":"checkout","feature":"new-pricing","enabled":true,"rollout":25,"owner":"team-payments"})";

void BM_SqliteAppend(benchmark::State& state) {
  const std::string path = "/dev/shm/chronoconf-append-bench-" + std::to_string(getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::remove((path + suffix).c_str());
  auto store = SqliteEventStore::Open(path);
  if (!store) {
    state.SkipWithError(store.status().message().c_str());
    return;
  }
  const auto batch = static_cast<size_t>(state.range(0));
  int64_t n = 0;
  std::vector<CommitData> commits(batch);
  for (auto _ : state) {
    for (CommitData& c : commits) {
      c.meta.actor = "anonymous";
      c.meta.request_id = std::to_string(n);
      c.events = {{EventType::kConfigSet,
                   "bench/put/" + std::to_string(n % 64) + "/" + std::to_string(n / 64), 1, kValue,
                   std::nullopt}};
      ++n;
    }
    auto recorded = (*store)->Append(commits);
    if (!recorded) {
      state.SkipWithError(recorded.status().message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(n);  // commits appended
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::remove((path + suffix).c_str());
}
BENCHMARK(BM_SqliteAppend)->Arg(1)->Arg(20)->Arg(64);

}  // namespace
}  // namespace chronoconf

BENCHMARK_MAIN();
