// SPEC §7 "Leases" through the real etcdctl 3.4 against `serve
// --etcd-listen` on a real SQLite store: a lease not kept alive expires
// within TTL + 1 s in one commit that names it (actor: the grantor), a lease
// kept alive does not, a restart starts every deadline again at the full
// TTL, keys never see a lease's stream, and GET /v1/leases lists them.
// etcdctl missing: skipped locally, a failure under CI.
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string EtcdctlMissing() {
  for (const char* path : {"/usr/bin/etcdctl", "/usr/local/bin/etcdctl"}) {
    if (access(path, X_OK) == 0) return "";
  }
  return "etcdctl is not installed (apt-get install etcd-client)";
}

class EtcdLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHRONOCONF_REQUIRE(EtcdctlMissing());
    etcd_port_ = PickFreePort();
    server_ = std::make_unique<ServerProcess>(
        dir_.SqliteUrl(), std::vector<std::string>{"--etcd-listen",
                                                   "127.0.0.1:" + std::to_string(etcd_port_)});
    ASSERT_TRUE(server_->Start());
    api_ = std::make_unique<Api>(server_->url());
  }

  CommandResult Ctl(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::vector<std::string> argv{"etcdctl",
                                  "--endpoints=127.0.0.1:" + std::to_string(etcd_port_),
                                  "--dial-timeout=5s", "--command-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    options.env["ETCDCTL_API"] = "3";
    options.env["ETCDCTL_ENDPOINTS"] = std::nullopt;
    options.timeout = timeout;
    return RunCommand(argv, options);
  }

  // `etcdctl lease grant TTL`: the lease's id in hex, as etcdctl prints it.
  std::string Grant(int ttl) {
    CommandResult r = Ctl({"lease", "grant", std::to_string(ttl)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // "lease 694d7a4a1c1b3c05 granted with TTL(2s)"
    return r.out.substr(6, r.out.find(' ', 6) - 6);
  }

  bool Exists(const std::string& key) { return api_->GetKey(key).status == 200; }

  // Polls until `key` is gone; how long that took, or nullopt after `limit`.
  std::optional<Clock::duration> WaitGone(const std::string& key, Clock::time_point since,
                                          std::chrono::seconds limit) {
    while (Clock::now() - since < limit) {
      if (!Exists(key)) return Clock::now() - since;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

  TempDir dir_;
  int etcd_port_ = 0;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
};

TEST_F(EtcdLeaseTest, ALeaseNotKeptAliveExpiresWithinTtlPlusOneSecondInOneNamedCommit) {
  const std::string id = Grant(2);
  const auto granted = Clock::now();
  ASSERT_EQ(Ctl({"put", "--lease=" + id, "svc/a", "1"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", "--lease=" + id, "svc/b", "2"}).exit_code, 0);
  ASSERT_EQ(Ctl({"put", "svc/c", "3"}).exit_code, 0);
  auto gone = WaitGone("svc/a", granted, std::chrono::seconds(6));
  ASSERT_TRUE(gone) << "the lease never expired";
  EXPECT_GE(*gone, std::chrono::milliseconds(1900));
  EXPECT_LE(*gone, std::chrono::seconds(3)) << "later than TTL + 1 s";
  EXPECT_FALSE(Exists("svc/b"));
  EXPECT_TRUE(Exists("svc/c"));
  // One commit: the lease's end and its keys' deletes, by the grantor,
  // with a reason that names the lease (in decimal).
  std::vector<json> events = api_->Events(0);
  ASSERT_GE(events.size(), 3u);
  const json& end = events[events.size() - 3];
  const std::string decimal = std::to_string(std::stoll(id, nullptr, 16));
  EXPECT_EQ(end["type"], "LeaseExpired") << end;
  EXPECT_EQ(end["key"], "\x01lease/" + decimal) << end;
  EXPECT_EQ(end["actor"], "anonymous") << end;
  EXPECT_NE(end["reason"].get<std::string>().find("lease " + decimal + " expired"),
            std::string::npos)
      << end;
  for (size_t i = events.size() - 2; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["type"], "ConfigDeleted") << events[i];
    EXPECT_EQ(events[i]["revision"], end["revision"]) << events[i];
  }
  auto ttl = Ctl({"lease", "timetolive", id});
  EXPECT_NE(ttl.out.find("already expired"), std::string::npos) << ttl.out << ttl.err;
  // Exactly once: the log holds one end of this lease, and the chain verifies.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int ends = 0;
  for (const json& e : api_->Events(0)) ends += e["type"] == "LeaseExpired";
  EXPECT_EQ(ends, 1);
  server_->Stop();
  CommandResult verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir_.SqliteUrl()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(EtcdLeaseTest, ALeaseKeptAliveLivesAndKeepAlivesAreNotEvents) {
  const std::string id = Grant(2);
  ASSERT_EQ(Ctl({"put", "--lease=" + id, "kept/a", "1"}).exit_code, 0);
  const int64_t head = api_->Head();
  // `etcdctl lease keep-alive` for 5 s (a bidirectional stream), then killed.
  std::thread keeper([&] { Ctl({"lease", "keep-alive", id}, std::chrono::seconds(5)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  EXPECT_TRUE(Exists("kept/a")) << "expired although kept alive";
  EXPECT_EQ(api_->Head(), head) << "a keep-alive made a commit";
  keeper.join();
  auto gone = WaitGone("kept/a", Clock::now(), std::chrono::seconds(6));
  ASSERT_TRUE(gone);
  EXPECT_LE(*gone, std::chrono::seconds(3)) << "later than TTL + 1 s after the last keep-alive";
}

TEST_F(EtcdLeaseTest, ARestartStartsEveryDeadlineAgainAtItsFullTtl) {
  const std::string id = Grant(4);
  ASSERT_EQ(Ctl({"put", "--lease=" + id, "r/a", "1"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  server_->Stop();
  ASSERT_TRUE(server_->Start());
  const auto restarted = Clock::now();
  // Granted 2 s before the restart with a TTL of 4 s: without a fresh
  // deadline it would be gone 2 s after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  EXPECT_TRUE(Exists("r/a"));
  auto gone = WaitGone("r/a", restarted, std::chrono::seconds(8));
  ASSERT_TRUE(gone);
  EXPECT_LE(*gone, std::chrono::seconds(5));
}

TEST_F(EtcdLeaseTest, KeysNeverSeeALeasesStreamAndTheNativeApiListsLeases) {
  const std::string id = Grant(60);
  ASSERT_EQ(Ctl({"put", "--lease=" + id, "n/a", "1"}).exit_code, 0);
  auto all = Ctl({"get", "", "--from-key", "--keys-only"});
  EXPECT_EQ(all.out, "n/a\n\n") << all.out;
  ApiResponse list = api_->Get("/v1/kv");
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.body.find("lease/"), std::string::npos) << list;
  ApiResponse status = api_->Get("/v1/status");
  EXPECT_EQ(status.json["keys"], 1) << status;
  ApiResponse leases = api_->Get("/v1/leases");
  ASSERT_EQ(leases.status, 200) << leases;
  ASSERT_EQ(leases.json["leases"].size(), 1u) << leases;
  EXPECT_EQ(leases.json["leases"][0]["id"], std::stoll(id, nullptr, 16)) << leases;
  EXPECT_EQ(leases.json["leases"][0]["ttl"], 60) << leases;
  EXPECT_EQ(leases.json["leases"][0]["keys"], json::array({"n/a"})) << leases;
  // The entry names its lease; a native put without one takes it off.
  ApiResponse entry = api_->GetKey("n/a");
  EXPECT_EQ(entry.json["lease"], std::stoll(id, nullptr, 16)) << entry;
  ASSERT_EQ(api_->Set("n/a", "\"1\"").status, 200);
  EXPECT_FALSE(api_->GetKey("n/a").json.contains("lease"));
  ASSERT_EQ(Ctl({"lease", "revoke", id}).exit_code, 0);
  EXPECT_TRUE(Exists("n/a")) << "a key that left the lease stays";
  EXPECT_EQ(api_->Get("/v1/leases").json["leases"].size(), 0u);
}

}  // namespace
}  // namespace chronoconf::test
