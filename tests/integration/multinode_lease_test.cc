// SPEC §7 "Leases" on two `chronoconf serve` nodes sharing one PostgreSQL
// database, through the real etcdctl: a lease kept alive through the node
// that does not keep the deadlines never expires (its keep-alives are
// forwarded); when the keeper is killed with SIGKILL, the other node takes
// over, restarts every deadline at its full TTL, lets the lease kept alive
// through it live, and expires the others exactly once. A lock whose holder
// stops is taken by the waiter.
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/pg_test_db.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using Clock = std::chrono::steady_clock;

class MultiNodeLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE_PG(db_);
    CHRONOCONF_REQUIRE(access("/usr/bin/etcdctl", X_OK) == 0
                           ? ""
                           : "etcdctl is not installed (apt-get install etcd-client)");
    // Node 0 starts first, so it takes the keeper's lock.
    for (int i = 0; i < 2; ++i) {
      etcd_ports_.push_back(PickFreePort());
      nodes_.push_back(std::make_unique<ServerProcess>(
          db_.url(), std::vector<std::string>{"--node", "node" + std::to_string(i),
                                              "--etcd-listen",
                                              "127.0.0.1:" + std::to_string(etcd_ports_.back())}));
      ASSERT_TRUE(nodes_.back()->Start()) << "node " << i;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  void TearDown() override {
    for (auto& n : nodes_) n->Stop();  // before the database is dropped
  }

  CommandResult Ctl(int node, std::vector<std::string> args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    args.insert(args.begin(),
                {"etcdctl",
                 "--endpoints=127.0.0.1:" + std::to_string(etcd_ports_[static_cast<size_t>(node)]),
                 "--dial-timeout=5s", "--command-timeout=10s"});
    CommandOptions options;
    options.env["ETCDCTL_API"] = "3";
    options.env["ETCDCTL_ENDPOINTS"] = std::nullopt;
    options.timeout = timeout;
    return RunCommand(args, options);
  }
  std::string Grant(int node, int ttl) {
    CommandResult r = Ctl(node, {"lease", "grant", std::to_string(ttl)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(6, r.out.find(' ', 6) - 6);
  }
  bool Exists(int node, const std::string& key) {
    return Api(nodes_[static_cast<size_t>(node)]->url()).GetKey(key).status == 200;
  }
  // How many LeaseExpired events each lease stream has, read on `node`.
  std::map<std::string, int> Expiries(int node) {
    std::map<std::string, int> out;
    for (const json& e : Api(nodes_[static_cast<size_t>(node)]->url()).Events(0)) {
      if (e["type"] == "LeaseExpired") ++out[e["key"].get<std::string>()];
    }
    return out;
  }

  PgTestDatabase db_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::vector<int> etcd_ports_;
};

TEST_F(MultiNodeLeaseTest, KeptAliveThroughAnyNodeLivesAndTheKeepersDeathExpiresTheRestOnce) {
  // Kept alive through node 1, which does not keep deadlines.
  const std::string kept = Grant(1, 2);
  ASSERT_EQ(Ctl(1, {"put", "--lease=" + kept, "mn/kept", "1"}).exit_code, 0);
  std::thread keep_alive([&] { Ctl(1, {"lease", "keep-alive", kept}, std::chrono::seconds(9)); });
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_TRUE(Exists(0, "mn/kept")) << "a forwarded keep-alive did not reach the keeper";

  // Not kept alive by anyone; its keeper is killed at once.
  const std::string unkept = Grant(0, 2);
  ASSERT_EQ(Ctl(0, {"put", "--lease=" + unkept, "mn/unkept", "1"}).exit_code, 0);
  nodes_[0]->Kill();
  const auto killed = Clock::now();
  std::optional<Clock::duration> gone;
  while (Clock::now() - killed < std::chrono::seconds(10)) {
    if (!Exists(1, "mn/unkept")) {
      gone = Clock::now() - killed;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(gone) << "the lease never expired after its keeper died\n" << nodes_[1]->Log();
  // The new keeper restarts the deadline at the full TTL (2 s) once it holds
  // the lock: PostgreSQL frees it when the killed node's session ends.
  EXPECT_LE(*gone, std::chrono::seconds(5));
  EXPECT_TRUE(Exists(1, "mn/kept")) << "the lease kept alive expired at the handover";
  keep_alive.join();
  // Keep-alives stopped: it expires too, within TTL + 1 s (and a tick).
  const auto stopped = Clock::now();
  while (Exists(1, "mn/kept") && Clock::now() - stopped < std::chrono::seconds(6)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(Exists(1, "mn/kept"));
  EXPECT_LE(Clock::now() - stopped, std::chrono::seconds(4));
  // Exactly once each.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::map<std::string, int> expiries = Expiries(1);
  EXPECT_EQ(expiries.size(), 2u);
  for (const auto& [stream, n] : expiries) EXPECT_EQ(n, 1) << stream;
}

TEST_F(MultiNodeLeaseTest, ALockWhoseHolderStopsIsTakenByTheWaiter) {
  // The holder: `etcdctl lock` on node 0 (its session lease: 2 s, kept
  // alive while the command runs), killed (SIGKILL) after 3 s as a crashed
  // holder: its lease is not revoked, it expires.
  std::thread holder([&] {
    Ctl(0, {"lock", "--ttl=2", "mn-lock", "sleep", "30"}, std::chrono::seconds(3));
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto asked = Clock::now();
  CommandResult waiter = Ctl(1, {"lock", "mn-lock", "echo", "second"}, std::chrono::seconds(15));
  const auto waited = Clock::now() - asked;
  holder.join();
  EXPECT_EQ(waiter.exit_code, 0) << waiter.err;
  EXPECT_EQ(waiter.out, "second\n");
  // Not before the holder stopped (2 s from now) and its lease ran out.
  EXPECT_GE(waited, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace chronoconf::test
