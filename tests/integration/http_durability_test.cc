// SPEC §3, §6: the SQLite store keeps everything across a restart and loses
// nothing that was acknowledged across a kill -9.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <sys/wait.h>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

// Checks the hash chain of every commit 1..head over HTTP.
void ExpectValidChain(Api& api, int64_t head) {
  std::string prev(64, '0');
  for (int64_t rev = 1; rev <= head; ++rev) {
    auto r = api.Get("/v1/revisions/" + std::to_string(rev));
    ASSERT_EQ(r.status, 200) << "revision " << rev << ": " << r;
    ASSERT_EQ(r.json.value("prev_hash", ""), prev) << "revision " << rev;
    const std::string hash = r.json.value("hash", "");
    ASSERT_EQ(ChainHash(prev, CommitBytes(r.body)), hash) << "revision " << rev;
    prev = hash;
  }
  auto status = api.Get("/v1/status");
  EXPECT_EQ(status.json["head_hash"], prev);
}

TEST(HttpDurabilityTest, StatusReportsSqlite) {
  TempDir dir;
  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  auto s = api.Get("/v1/status");
  ASSERT_EQ(s.status, 200) << s;
  EXPECT_EQ(s.json["store"], "sqlite");
  EXPECT_EQ(s.json["revision"], 0);
  EXPECT_EQ(s.json["keys"], 0);
  EXPECT_EQ(s.json["events"], 0);
}

TEST(HttpDurabilityTest, RestartKeepsEverything) {
  TempDir dir;
  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  ASSERT_EQ(api.Set("app/a", R"({"b":1.50,"a":12345678901234567890,"s":"caf\u00e9"})",
                    {{"X-Actor", "alice"}})
                .status,
            201);
  ASSERT_EQ(api.Put("/v1/kv/app/b", R"({"value":[1,2],"reason":"why not"})",
                    {{"X-Request-Id", "req-1"}})
                .status,
            201);
  ASSERT_EQ(api.Set("app/b", "3").status, 200);
  ASSERT_EQ(api.Post("/v1/txn", R"({"ops":[{"op":"set","key":"app/c","value":null},)"
                                R"({"op":"delete","key":"app/b"}],"reason":"txn"})")
                .status,
            200);
  ASSERT_EQ(api.Set("other/x", "\"x\"").status, 201);

  auto status_before = api.Get("/v1/status");
  auto list_before = api.Get("/v1/kv");
  auto events_before = api.Get("/v1/events");
  auto history_before = api.Get("/v1/history/app/b");
  ASSERT_EQ(status_before.status, 200);
  ASSERT_EQ(status_before.json["revision"], 5);

  EXPECT_TRUE(server.Stop()) << "SIGTERM should stop the server cleanly";
  EXPECT_TRUE(WIFEXITED(server.last_wait_status()) && WEXITSTATUS(server.last_wait_status()) == 0)
      << "exit after SIGTERM: wait status " << server.last_wait_status();
  ASSERT_TRUE(server.Start());

  auto status_after = api.Get("/v1/status");
  ASSERT_EQ(status_after.status, 200) << status_after;
  for (const char* field : {"revision", "keys", "events", "head_hash", "store"}) {
    EXPECT_EQ(status_after.json[field], status_before.json[field]) << field;
  }
  EXPECT_EQ(api.Get("/v1/kv").body, list_before.body);
  EXPECT_EQ(api.Get("/v1/events").body, events_before.body);
  EXPECT_EQ(api.Get("/v1/history/app/b").body, history_before.body);
  EXPECT_EQ(RawAt(api.GetKey("app/a").body, "value"),
            R"({"b":1.50,"a":12345678901234567890,"s":"caf\u00e9"})");

  // The chain goes on from where it was.
  auto next = api.Set("app/d", "4");
  ASSERT_EQ(next.status, 201) << next;
  EXPECT_EQ(next.json["revision"], 6);
  auto rev = api.Get("/v1/revisions/6");
  EXPECT_EQ(rev.json["prev_hash"], status_before.json["head_hash"]);
  ExpectValidChain(api, 6);
}

TEST(HttpDurabilityTest, KillNineLosesNoAcknowledgedWrite) {
  TempDir dir;
  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());

  struct Ack {
    std::string key;
    std::string value;
  };
  std::mutex mu;
  std::vector<Ack> acked;
  std::vector<std::string> unexpected;
  std::set<int> txns_acked;
  std::atomic<int> txns_tried{0};
  std::atomic<int> total_acks{0};
  std::atomic<bool> stop{false};

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Api own(server.url(), std::chrono::seconds(5));
      for (int j = 0; !stop; ++j) {
        const std::string key = "t" + std::to_string(t) + "/k" + std::to_string(j);
        const std::string value = std::to_string(j * 1000 + t);
        auto r = own.Set(key, value);
        if (r.status == 0) return;  // the server is gone
        std::lock_guard lock(mu);
        if (r.status != 201) {
          unexpected.push_back(key + ": " + std::to_string(r.status) + " " + r.body);
          return;
        }
        acked.push_back({key, value});
        ++total_acks;
      }
    });
  }
  threads.emplace_back([&] {
    Api own(server.url(), std::chrono::seconds(5));
    for (int j = 0; !stop; ++j) {
      json ops = json::array();
      for (const char* k : {"a", "b", "c"}) {
        ops.push_back({{"op", "set"}, {"key", "x/" + std::to_string(j) + "/" + k}, {"value", j}});
      }
      txns_tried = j + 1;
      auto r = own.Post("/v1/txn", json{{"ops", ops}}.dump());
      if (r.status == 0) return;
      std::lock_guard lock(mu);
      if (r.status != 200) {
        unexpected.push_back("txn: " + std::to_string(r.status) + " " + r.body);
        return;
      }
      txns_acked.insert(j);
    }
  });

  // Let the writers get going, then crash the server under them.
  for (int i = 0; i < 300 && total_acks < 600; ++i) std::this_thread::sleep_for(milliseconds(5));
  server.Kill();
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_TRUE(unexpected.empty()) << unexpected.front();
  ASSERT_GT(acked.size(), 0u);

  ASSERT_TRUE(server.Start()) << "restart after kill -9";
  Api api(server.url());
  for (const auto& a : acked) {
    auto g = api.GetKey(a.key);
    ASSERT_EQ(g.status, 200) << "acknowledged write lost: " << a.key;
    EXPECT_EQ(RawAt(g.body, "value"), a.value) << a.key;
  }
  for (int j = 0; j < txns_tried; ++j) {
    int present = 0;
    for (const char* k : {"a", "b", "c"}) {
      if (api.GetKey("x/" + std::to_string(j) + "/" + k).status == 200) ++present;
    }
    EXPECT_TRUE(present == 0 || present == 3) << "half a commit survived: txn " << j;
    if (txns_acked.count(j)) {
      EXPECT_EQ(present, 3) << "acknowledged txn lost: " << j;
    }
  }

  const int64_t head = api.Head();
  int64_t expect = 1;
  for (auto& e : api.Events(0, {}, 5000)) {
    const int64_t rev = e["revision"].get<int64_t>();
    if (rev != expect) {
      ASSERT_EQ(rev, expect + 1) << "gap in revisions";
      ++expect;
    }
  }
  EXPECT_EQ(expect, head);
  ExpectValidChain(api, head);

  // The store passes the offline check too.
  ASSERT_TRUE(server.Stop());
  auto verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", server.store_url()});
  EXPECT_EQ(verify.exit_code, 0) << "chronoconf verify failed:\n" << verify.out << verify.err;

  // And writes go on after another restart.
  ASSERT_TRUE(server.Start());
  auto w = api.Set("after/crash", "1");
  EXPECT_EQ(w.status, 201) << w;
  EXPECT_EQ(w.json["revision"], head + 1);
}

}  // namespace
}  // namespace chronoconf::test
