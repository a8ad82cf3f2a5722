// SPEC §3, §6 on PostgreSQL: a kill -9 under 16 writers loses nothing that
// was acknowledged, leaves no half commit and no gap, and `verify` passes.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/pg_test_db.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

TEST(PgDurabilityTest, StatusReportsPostgres) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  ServerProcess server(db.url(), {"--node", "n1"});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  auto s = api.Get("/v1/status");
  ASSERT_EQ(s.status, 200) << s;
  EXPECT_EQ(s.json["store"], "postgres");
  EXPECT_EQ(s.json["node"], "n1");
  EXPECT_EQ(s.json["revision"], 0);
}

TEST(PgDurabilityTest, KillNineUnderSixteenWritersLosesNoAcknowledgedWrite) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  ServerProcess server(db.url());
  ASSERT_TRUE(server.Start());

  struct Ack {
    std::string key;
    std::string value;
  };
  std::mutex mu;
  std::vector<Ack> acked;
  std::vector<std::string> unexpected;
  std::atomic<int> total_acks{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Api own(server.url(), std::chrono::seconds(5));
      for (int j = 0; !stop; ++j) {
        const std::string key = "t" + std::to_string(t) + "/k" + std::to_string(j);
        const std::string value = std::to_string(j * 1000 + t);
        ApiResponse r;
        if (j % 4 == 3) {  // every fourth write a two-key transaction
          json ops = json::array({{{"op", "set"}, {"key", key}, {"value", j}},
                                  {{"op", "set"}, {"key", key + "/twin"}, {"value", j}}});
          r = own.Post("/v1/txn", json{{"ops", ops}}.dump());
        } else {
          r = own.Set(key, value);
        }
        if (r.status == 0) return;  // the server is gone
        std::lock_guard lock(mu);
        if (r.status != 201 && r.status != 200) {
          unexpected.push_back(key + ": " + std::to_string(r.status) + " " + r.body);
          return;
        }
        if (j % 4 == 3) {
          acked.push_back({key, std::to_string(j)});
          acked.push_back({key + "/twin", std::to_string(j)});
        } else {
          acked.push_back({key, value});
        }
        ++total_acks;
      }
    });
  }
  for (int i = 0; i < 1000 && total_acks < 400; ++i) std::this_thread::sleep_for(milliseconds(5));
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
  // No half transaction: a key's twin exists exactly when the key does.
  for (auto& e : api.Events(0, {}, 5000)) {
    const std::string key = e["key"];
    if (key.ends_with("/twin")) {
      EXPECT_EQ(api.GetKey(key.substr(0, key.size() - 5)).status, 200) << key;
    }
  }
  const int64_t head = api.Head();
  int64_t expect = 0;
  for (auto& e : api.Events(0, {}, 5000)) {
    const int64_t rev = e["revision"].get<int64_t>();
    if (rev != expect) {
      ASSERT_EQ(rev, expect + 1) << "gap in revisions";
      expect = rev;
    }
  }
  EXPECT_EQ(expect, head);

  auto verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", db.url()});
  EXPECT_EQ(verify.exit_code, 0) << "chronoconf verify failed:\n" << verify.out << verify.err;
  auto w = api.Set("after/crash", "1");
  EXPECT_EQ(w.status, 201) << w;
  EXPECT_EQ(w.json["revision"], head + 1);
  server.Stop();  // before the database is dropped
}

}  // namespace
}  // namespace chronoconf::test
