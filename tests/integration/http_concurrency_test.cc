// SPEC §1 (revisions gap-free, optimistic concurrency), §6 (group commit):
// many clients at once, on the memory and the SQLite store.
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpConcurrencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string url = GetParam() == "sqlite" ? dir_.SqliteUrl() : "memory:";
    server_ = std::make_unique<ServerProcess>(url);
    ASSERT_TRUE(server_->Start());
  }
  TempDir dir_{"chronoconf-conc"};
  std::unique_ptr<ServerProcess> server_;
};

TEST_P(HttpConcurrencyTest, CompareAndSwapIncrementsLoseNothing) {
  Api api(server_->url());
  ASSERT_EQ(api.Set("counter", "0").status, 201);
  constexpr int kThreads = 16;
  constexpr int kSwapsPerThread = 8;
  std::atomic<int> conflicts{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Api own(server_->url());
      int done = 0;
      for (int attempt = 0; done < kSwapsPerThread && attempt < 20000; ++attempt) {
        auto g = own.GetKey("counter");
        if (g.status != 200) {
          std::lock_guard lock(mu);
          failures.push_back("GET: " + g.body);
          return;
        }
        const int64_t value = g.json["value"].get<int64_t>();
        const int64_t version = g.json["version"].get<int64_t>();
        auto r = own.Put("/v1/kv/counter", json{{"value", value + 1},
                                                {"expected_version", version}}.dump());
        if (r.status == 200) {
          ++done;
        } else if (r.status == 409) {
          ++conflicts;
        } else {
          std::lock_guard lock(mu);
          failures.push_back("PUT: " + std::to_string(r.status) + " " + r.body);
          return;
        }
      }
      if (done < kSwapsPerThread) {
        std::lock_guard lock(mu);
        failures.push_back("too many retries");
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.front();

  constexpr int kTotal = kThreads * kSwapsPerThread;
  auto final_entry = api.GetKey("counter");
  ASSERT_EQ(final_entry.status, 200) << final_entry;
  EXPECT_EQ(final_entry.json["value"], kTotal);
  EXPECT_EQ(final_entry.json["version"], kTotal + 1);
  EXPECT_EQ(api.Head(), kTotal + 1);

  // One event per commit, revisions 1..head with no gap, and every event
  // built on the one before it.
  auto events = api.Events(0, {}, 50);
  ASSERT_EQ(events.size(), static_cast<size_t>(kTotal + 1));
  for (size_t i = 0; i < events.size(); ++i) {
    auto& e = events[i];
    EXPECT_EQ(e["revision"], i + 1);
    EXPECT_EQ(e["version"], i + 1);
    EXPECT_EQ(e["value"], i);
    if (i > 0) {
      EXPECT_EQ(e["previous_value"], i - 1);
    }
  }
  RecordProperty("conflicts", conflicts.load());
}

TEST_P(HttpConcurrencyTest, ConcurrentWritersGetDistinctGapFreeRevisions) {
  constexpr int kThreads = 8;
  constexpr int kWrites = 25;
  std::mutex mu;
  std::vector<int64_t> revisions;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Api own(server_->url());
      for (int i = 0; i < kWrites; ++i) {
        auto r = own.Set("w" + std::to_string(t) + "/k" + std::to_string(i), std::to_string(i));
        std::lock_guard lock(mu);
        if (r.status != 201) {
          failures.push_back(std::to_string(r.status) + " " + r.body);
          return;
        }
        revisions.push_back(r.json["revision"].get<int64_t>());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  std::set<int64_t> distinct(revisions.begin(), revisions.end());
  ASSERT_EQ(distinct.size(), static_cast<size_t>(kThreads * kWrites)) << "revisions reused";
  EXPECT_EQ(*distinct.begin(), 1);
  EXPECT_EQ(*distinct.rbegin(), kThreads * kWrites);

  Api api(server_->url());
  auto status = api.Get("/v1/status");
  EXPECT_EQ(status.json["revision"], kThreads * kWrites);
  EXPECT_EQ(status.json["keys"], kThreads * kWrites);
  EXPECT_EQ(status.json["events"], kThreads * kWrites);
  int64_t expect = 1;
  int64_t last_time = 0;
  for (auto& e : api.Events(0)) {
    EXPECT_EQ(e["revision"], expect++);
    // Commit time is non-decreasing with revision.
    const int64_t t = TimeMicros(e.value("timestamp", ""));
    EXPECT_GE(t, last_time) << "revision " << e["revision"];
    last_time = t;
  }
}

std::string StoreName(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Stores, HttpConcurrencyTest, ::testing::Values("memory", "sqlite"),
                         StoreName);

}  // namespace
}  // namespace chronoconf::test
