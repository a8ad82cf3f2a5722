// Crash torture (issue 5, part 4; SPEC §6): round after round, 16 writers
// compare-and-swap their keys while the server is SIGKILLed at a random
// moment; after each restart every acknowledged write is in its key's
// history with its version and value, revisions run 1..head without a gap,
// and `chronoconf verify` passes.
//
// Rounds: $CHRONOCONF_TORTURE_ROUNDS (default 10). Stores: SQLite, and
// PostgreSQL when $CHRONOCONF_TEST_PG_URL names a server (see
// support/pg_test_db.h).
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/pg_test_db.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

constexpr int kWriters = 16;
constexpr int kKeysPerWriter = 4;

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

void Torture(const std::string& store_url) {
  ServerProcess server(store_url);
  ASSERT_TRUE(server.Start());
  std::mt19937 rng(std::random_device{}());
  std::mutex mu;
  std::map<std::string, std::vector<Ack>> acked;
  const int rounds = Rounds();
  for (int round = 0; round < rounds; ++round) {
    std::thread killer([&] {
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(150, 700)(rng)));
      ::kill(server.pid(), SIGKILL);
    });
    RunWriters(server.url(), round, &mu, &acked);
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

}  // namespace
}  // namespace chronoconf::test
