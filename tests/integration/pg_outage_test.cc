// SPEC §2.1 503, §2.4 /readyz, §3: the PostgreSQL server stops under write
// load and comes back. During the outage writes get 503 quickly (not 409,
// not a hang), reads go on from memory and /readyz is 503; afterwards the
// nodes recover without a restart and nothing acknowledged is lost.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
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
using Steady = std::chrono::steady_clock;

// Thaws a server frozen with SIGSTOP when the test ends, also when an
// assertion fails (a frozen server would outlive the test).
struct ThawOnExit {
  PgPrivateCluster& cluster;
  ~ThawOnExit() { (void)cluster.ThawServer(); }
};

// Polls GET /readyz on `url` until it answers `status` or `timeout` passes.
bool ReadyzBecomes(const std::string& url, int status, milliseconds timeout) {
  Api api(url, milliseconds(2000));
  const auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (api.Get("/readyz").status == status) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

TEST(PgOutageTest, TheServerStopsUnderLoadAndComesBack) {
  PgPrivateCluster cluster;
  CHRONOCONF_REQUIRE_PG(cluster);
  PgTestDatabase db(cluster.url());
  ASSERT_TRUE(db.available()) << db.why();
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(std::make_unique<ServerProcess>(
        db.url(), std::vector<std::string>{"--node", "n" + std::to_string(i)}));
    ASSERT_TRUE(nodes.back()->Start());
  }
  Api first(nodes[0]->url());
  ASSERT_EQ(first.Set("before/outage", "1").status, 201);

  struct Ack {
    std::string key;
    std::string value;
  };
  std::mutex mu;
  std::vector<Ack> acked;
  std::vector<std::string> unexpected;
  std::atomic<bool> outage{false}, stop{false};
  std::atomic<int> unavailable_in_outage{0}, acks_after{0};
  std::atomic<int64_t> slowest_ms{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 6; ++t) {
    writers.emplace_back([&, t] {
      Api api(nodes[static_cast<size_t>(t % 2)]->url(), std::chrono::seconds(20));
      for (int j = 0; !stop; ++j) {
        const std::string key = "w" + std::to_string(t) + "/k" + std::to_string(j);
        const std::string value = std::to_string(j);
        const bool during = outage.load();
        const auto start = Steady::now();
        auto r = api.Set(key, value);
        const int64_t ms =
            std::chrono::duration_cast<milliseconds>(Steady::now() - start).count();
        if (r.status == 503) std::this_thread::sleep_for(milliseconds(20));  // back off
        std::lock_guard lock(mu);
        if (during) slowest_ms = std::max<int64_t>(slowest_ms.load(), ms);
        if (r.status == 201) {
          acked.push_back({key, value});
          if (!outage) ++acks_after;
        } else if (r.status == 503) {
          if (during) ++unavailable_in_outage;
          // A COMMIT in flight when the server stops has lost its answer:
          // outcome_unknown (SPEC §6) is the honest 503 for it.
          if (r.ErrorCode() != "unavailable" && r.ErrorCode() != "outcome_unknown") {
            unexpected.push_back("503 body: " + r.body);
          }
        } else {  // 409 would mean a failed append was taken for a conflict
          unexpected.push_back(key + ": " + std::to_string(r.status) + " " + r.body);
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(300));

  ASSERT_TRUE(cluster.StopServer());
  outage = true;
  // The nodes notice even without writes of their own (the follower's poll).
  for (auto& n : nodes) {
    EXPECT_TRUE(ReadyzBecomes(n->url(), 503, milliseconds(5000))) << n->url();
  }
  // Reads go on from memory.
  for (auto& n : nodes) {
    Api api(n->url());
    auto g = api.GetKey("before/outage");
    EXPECT_EQ(g.status, 200) << g;
    EXPECT_EQ(api.Get("/healthz").status, 200);
  }
  std::this_thread::sleep_for(milliseconds(1000));
  outage = false;
  acks_after = 0;
  ASSERT_TRUE(cluster.StartServer());

  // Recovery without a restart: ready again, and writes go through.
  for (auto& n : nodes) {
    EXPECT_TRUE(ReadyzBecomes(n->url(), 200, milliseconds(15000))) << n->url();
  }
  for (int i = 0; i < 400 && acks_after < 30; ++i) std::this_thread::sleep_for(milliseconds(25));
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_TRUE(unexpected.empty()) << unexpected.front();
  EXPECT_GT(unavailable_in_outage.load(), 0) << "no write was refused during the outage";
  EXPECT_LT(slowest_ms.load(), 8000) << "a write during the outage hung";
  EXPECT_GE(acks_after.load(), 30) << "writes did not resume after the outage";

  // Nothing acknowledged is lost, on either node.
  // The store's head: the highest any node has applied (each applied its own).
  int64_t head = 0;
  for (auto& n : nodes) head = std::max(head, Api(n->url()).Head());
  const std::string at_head = "min_revision=" + std::to_string(head) + "&timeout_ms=10000";
  for (auto& n : nodes) {
    Api api(n->url());
    for (const Ack& a : acked) {
      auto g = api.GetKey(a.key, at_head);
      ASSERT_EQ(g.status, 200) << n->url() << " lost acknowledged " << a.key << ": " << g;
      ASSERT_EQ(RawAt(g.body, "value"), a.value) << a.key;
    }
  }
  for (auto& n : nodes) n->Stop();
  auto verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", db.url()});
  EXPECT_EQ(verify.exit_code, 0) << "chronoconf verify failed:\n" << verify.out << verify.err;
}

// Issue 14, SPEC §6 "Every wait has a deadline": PostgreSQL frozen with
// SIGSTOP (a hung host: connections stay open, nothing answers). A write
// answers 503 within the store's deadline, a consistent read too (it must
// learn the store's head), plain reads go on from memory, /readyz turns
// 503; once thawed, everything recovers without a restart.
TEST(PgOutageTest, AFrozenServerFailsWritesInTimeAndTheNodeRecovers) {
  PgPrivateCluster cluster;
  CHRONOCONF_REQUIRE_PG(cluster);
  PgTestDatabase db(cluster.url());
  ASSERT_TRUE(db.available()) << db.why();
  ServerProcess node(db.url());
  ASSERT_TRUE(node.Start());
  Api api(node.url(), std::chrono::seconds(60));
  ASSERT_EQ(api.Set("before", "1").status, 201);

  ASSERT_TRUE(cluster.FreezeServer());
  ThawOnExit thaw{cluster};
  auto start = Steady::now();
  auto w = api.Set("during", "2");
  auto waited = std::chrono::duration_cast<milliseconds>(Steady::now() - start);
  std::cout << "frozen PostgreSQL: the write waited " << waited.count() << " ms\n";
  EXPECT_EQ(w.status, 503) << w;
  EXPECT_LT(waited, milliseconds(12000)) << "the write waited " << waited.count() << " ms\n"
                                         << node.Log();
  start = Steady::now();
  auto consistent = api.GetKey("before", "consistent=true");
  waited = std::chrono::duration_cast<milliseconds>(Steady::now() - start);
  EXPECT_EQ(consistent.status, 503) << consistent;
  // Its head read may queue behind the follower's, on a connection that
  // must then reconnect (libpq's connect timeout, per attempt): 8-15 s seen.
  EXPECT_LT(waited, milliseconds(20000)) << "the consistent read waited " << waited.count()
                                         << " ms";
  std::cout << "frozen PostgreSQL: write answered " << w.status << " " << w.ErrorCode()
            << ", consistent read answered " << consistent.status << " in " << waited.count()
            << " ms\n";
  EXPECT_EQ(api.GetKey("before").status, 200);  // from memory
  EXPECT_TRUE(ReadyzBecomes(node.url(), 503, milliseconds(15000)));

  ASSERT_TRUE(cluster.ThawServer());
  EXPECT_TRUE(ReadyzBecomes(node.url(), 200, milliseconds(30000))) << node.Log();
  auto after = api.Set("after", "3");
  EXPECT_EQ(after.status, 201) << after;
  EXPECT_EQ(api.GetKey("after", "consistent=true").status, 200);
  // A write refused as unavailable left nothing; an unknown outcome may have.
  if (w.ErrorCode() == "unavailable") {
    EXPECT_EQ(api.GetKey("during").status, 404);
  }
}

// SIGTERM while a consistent read waits for a frozen PostgreSQL to tell the
// store's head: the read is answered 503 "shutting down" when the drain
// begins, not cut off when the drain gives up on its connection.
TEST(PgOutageTest, AConsistentReadWaitingOnAFrozenServerIsAnsweredAtSigterm) {
  PgPrivateCluster cluster;
  CHRONOCONF_REQUIRE_PG(cluster);
  PgTestDatabase db(cluster.url());
  ASSERT_TRUE(db.available()) << db.why();
  ServerProcess node(db.url());
  ASSERT_TRUE(node.Start());
  Api api(node.url());
  ASSERT_EQ(api.Set("k", "1").status, 201);

  ASSERT_TRUE(cluster.FreezeServer());
  ThawOnExit thaw{cluster};
  RawConnection reader;
  ASSERT_TRUE(reader.Connect(node.port()));
  ASSERT_TRUE(reader.SendAll("GET /v1/kv/k?consistent=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string answer;
  // The read waits on the frozen store (its deadline is seconds away).
  ASSERT_EQ(reader.ReadSome(&answer, milliseconds(1000)), RawConnection::ReadStatus::kTimeout)
      << answer;
  ASSERT_EQ(::kill(node.pid(), SIGTERM), 0);
  const auto sent = Steady::now();
  ASSERT_TRUE(reader.ReadUntilClosed(std::chrono::seconds(15), &answer)) << node.Log();
  EXPECT_LT(Steady::now() - sent, std::chrono::seconds(3)) << answer;
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("shutting down"), std::string::npos) << answer;
  ASSERT_TRUE(cluster.ThawServer());
  node.Stop();
}

}  // namespace
}  // namespace chronoconf::test
