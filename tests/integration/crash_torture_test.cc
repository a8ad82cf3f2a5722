// Crash torture (issue 5, part 4; SPEC §6): round after round, 16 writers
// compare-and-swap their keys while the server is SIGKILLed at a random
// moment; after each restart every acknowledged write is in its key's
// history with its version and value, revisions run 1..head without a gap,
// and `chronoconf verify` passes.
//
// Rounds: $CHRONOCONF_TORTURE_ROUNDS (default 10). Stores: SQLite, and
// PostgreSQL when $CHRONOCONF_TEST_PG_URL names a server (see
// support/pg_test_db.h).
//
// The *EtcdAndHttp tests (issue 15) add etcd writers beside the HTTP ones:
// plain Puts over gRPC (etcd's KV.Put, through the same group commit); each
// acknowledged Put must be in its key's history at the revision its answer
// named, with its value.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "support/http_test_util.h"
#include "support/pg_test_db.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

constexpr int kWriters = 16;
constexpr int kKeysPerWriter = 4;
constexpr int kEtcdWriters = 8;

int Rounds() {
  const char* env = std::getenv("CHRONOCONF_TORTURE_ROUNDS");
  int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : 10;
}

struct Ack {
  int64_t version = 0;
  std::string value;  // the JSON text sent
};

// One round: writers run until the server dies under them.
void RunWriters(const std::string& url, int round, std::mutex* mu,
                std::map<std::string, std::vector<Ack>>* acked) {
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Api api(url, std::chrono::seconds(10));
      std::map<std::string, int64_t> version;  // what this writer knows
      for (int i = 0; i < 100000; ++i) {
        const std::string key = "t/w" + std::to_string(w) + "/k" + std::to_string(i % kKeysPerWriter);
        if (!version.contains(key)) {
          auto g = api.GetKey(key);
          if (g.status == 0) return;
          version[key] = g.status == 200 ? g.json["version"].get<int64_t>() : 0;
        }
        const std::string value = "\"r" + std::to_string(round) + "w" + std::to_string(w) + "i" +
                                  std::to_string(i) + "\"";
        auto r = api.Put("/v1/kv/" + key,
                         "{\"value\":" + value +
                             ",\"expected_version\":" + std::to_string(version[key]) + "}");
        if (r.status == 200 || r.status == 201) {
          int64_t v = r.json["entry"]["version"].get<int64_t>();
          EXPECT_EQ(v, version[key] + 1) << key;
          version[key] = v;
          std::lock_guard lock(*mu);
          (*acked)[key].push_back({v, value});
        } else if (r.status == 409) {
          version.erase(key);  // re-read it
        } else {
          return;  // the server is gone (or going): this round is over
        }
      }
    });
  }
  for (auto& t : writers) t.join();
}

// An etcd Put the server acknowledged: the revision its answer named.
struct EtcdAck {
  std::string key;
  int64_t revision = 0;
  std::string value;  // the text put
};

// One round of etcd writers (gRPC KV.Put) on keys of their own, until the
// server dies under them.
void RunEtcdWriters(int etcd_port, int round, std::mutex* mu, std::vector<EtcdAck>* acked) {
  std::vector<std::thread> writers;
  for (int w = 0; w < kEtcdWriters; ++w) {
    writers.emplace_back([&, w] {
      auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(etcd_port),
                                         grpc::InsecureChannelCredentials());
      auto kv = etcdserverpb::KV::NewStub(channel);
      for (int i = 0; i < 100000; ++i) {
        etcdserverpb::PutRequest req;
        req.set_key("e/w" + std::to_string(w) + "/k" + std::to_string(i % kKeysPerWriter));
        req.set_value("r" + std::to_string(round) + "w" + std::to_string(w) + "i" + std::to_string(i));
        etcdserverpb::PutResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        // The first call waits for the connection; later ones fail fast
        // once the server is gone.
        ctx.set_wait_for_ready(i == 0);
        if (!kv->Put(&ctx, req, &resp).ok()) return;  // this round is over
        std::lock_guard lock(*mu);
        acked->push_back({req.key(), resp.header().revision(), req.value()});
      }
    });
  }
  for (auto& t : writers) t.join();
}

void Torture(const std::string& store_url, bool etcd = false) {
  const int etcd_port = etcd ? PickFreePort() : 0;
  ServerProcess server(store_url, etcd ? std::vector<std::string>{"--etcd-listen",
                                                                  "127.0.0.1:" + std::to_string(etcd_port)}
                                       : std::vector<std::string>{});
  ASSERT_TRUE(server.Start());
  std::mt19937 rng(std::random_device{}());
  std::mutex mu;
  std::map<std::string, std::vector<Ack>> acked;
  std::vector<EtcdAck> etcd_acked;
  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    std::thread killer([&] {
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(150, 700)(rng)));
      ::kill(server.pid(), SIGKILL);
    });
    std::thread etcd_writers([&] {
      if (etcd) RunEtcdWriters(etcd_port, round, &mu, &etcd_acked);
    });
    RunWriters(server.url(), round, &mu, &acked);
    etcd_writers.join();
    killer.join();
    server.Kill();  // reaps it
    ASSERT_TRUE(server.Start()) << "round " << round;

    Api api(server.url());
    size_t checked = 0;
    for (const auto& [key, acks] : acked) {
      auto h = api.Get("/v1/history/" + key + "?limit=10000");
      ASSERT_EQ(h.status, 200) << key << ": " << h;
      std::map<int64_t, std::string> stored;
      for (const auto& e : h.json["events"]) {
        stored[e["version"].get<int64_t>()] = e.contains("value") ? e["value"].dump() : "";
      }
      for (const Ack& a : acks) {
        auto it = stored.find(a.version);
        ASSERT_NE(it, stored.end()) << "round " << round << ": acknowledged " << key << " v"
                                    << a.version << " was lost";
        EXPECT_EQ(it->second, a.value) << key << " v" << a.version;
        ++checked;
      }
      // Versions run 1..n.
      int64_t expect = 1;
      for (const auto& [v, value] : stored) EXPECT_EQ(v, expect++) << key;
    }
    // Each acknowledged etcd Put: at its revision, with its text (a JSON
    // string, SPEC §7's value mapping).
    std::map<std::string, std::map<int64_t, std::string>> etcd_stored;
    for (const EtcdAck& a : etcd_acked) {
      auto [it, fresh] = etcd_stored.try_emplace(a.key);
      if (fresh) {
        auto h = api.Get("/v1/history/" + a.key + "?limit=10000");
        ASSERT_EQ(h.status, 200) << a.key << ": " << h;
        for (const auto& e : h.json["events"]) {
          it->second[e["revision"].get<int64_t>()] = e.contains("value") ? e["value"].dump() : "";
        }
      }
      auto at = it->second.find(a.revision);
      ASSERT_NE(at, it->second.end()) << "round " << round << ": acknowledged etcd Put of "
                                      << a.key << " at revision " << a.revision << " was lost";
      EXPECT_EQ(at->second, "\"" + a.value + "\"") << a.key << " at " << a.revision;
      ++checked;
    }
    const int64_t head = api.Head();
    auto events = api.Events(0);
    int64_t rev = 0;
    for (const auto& e : events) {
      int64_t r = e["revision"].get<int64_t>();
      if (r != rev) {
        ASSERT_EQ(r, rev + 1) << "round " << round << ": a gap in revisions";
        rev = r;
      }
    }
    EXPECT_EQ(rev, head);
    auto verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", store_url});
    ASSERT_EQ(verify.exit_code, 0) << "round " << round << ": " << verify.err;
    std::printf("[ torture  ] round %d: head %lld, %zu acknowledged writes checked\n", round,
                static_cast<long long>(head), checked);
  }
  // (A test of the etcd writers that none of them got through is no test.)
  if (etcd) {
    EXPECT_FALSE(etcd_acked.empty()) << "no etcd write was acknowledged in any round";
  }
}

TEST(CrashTortureTest, Sqlite) {
  TempDir dir;
  Torture(dir.SqliteUrl());
}

TEST(CrashTortureTest, Postgres) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  Torture(db.url());
}

TEST(CrashTortureTest, SqliteEtcdAndHttp) {
  TempDir dir;
  Torture(dir.SqliteUrl(), /*etcd=*/true);
}

TEST(CrashTortureTest, PostgresEtcdAndHttp) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  Torture(db.url(), /*etcd=*/true);
}

}  // namespace
}  // namespace chronoconf::test
