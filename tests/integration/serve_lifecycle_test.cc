// The server process as an operator sees it (issue 5, part 1, defects 3, 4
// and 5): one serve per SQLite file, a shutdown that answers what it
// committed, and a connection cap that keeps it serving (and its log
// readable) when clients open more connections than it can hold.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Every key under `prefix` that exists, through paged listing.
std::set<std::string> KeysUnder(Api& api, const std::string& prefix) {
  std::set<std::string> keys;
  std::string after;
  for (;;) {
    auto r = api.Get("/v1/kv?prefix=" + Q(prefix) + "&limit=10000" +
                     (after.empty() ? "" : "&after=" + Q(after)));
    EXPECT_EQ(r.status, 200) << r;
    if (r.status != 200) break;
    for (const auto& e : r.json["entries"]) keys.insert(e["key"].get<std::string>());
    if (!r.json.contains("next")) break;
    after = r.json["next"].get<std::string>();
  }
  return keys;
}

// CPU seconds (user + system) the process `pid` has used.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

size_t CountOccurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Defect 3: two serves on one SQLite file forked the read model.
// Issue 13 item 16: while the read model catches up, /readyz is 503 but
// /metrics (whose lag gauge matters most then) and the console answer.
TEST(ServeLifecycleTest, MetricsAndConsoleServeWhileCatchingUp) {
  TempDir dir;
  auto load = RunCommand({CHRONOCONF_BIN, "bench", "load", "--store", dir.SqliteUrl(), "--events",
                          "100000", "--keys", "1000"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  ServerProcess server(dir.SqliteUrl());
  int catching_up = 0;
  std::vector<std::string> refused;
  ASSERT_TRUE(server.Start([&](client::HttpClient& http) {
    auto ready = http.Get("/readyz");
    if (!ready || ready->status != 503) return;
    ++catching_up;
    for (const char* target : {"/metrics", "/ui/"}) {
      auto r = http.Get(target);
      if (r && r->status != 200) refused.push_back(target + (" " + std::to_string(r->status)));
    }
  }));
  // 100,000 events take long enough to replay that a 1 ms poll sees it.
  EXPECT_GT(catching_up, 0) << "the catch-up was over before the first poll";
  EXPECT_TRUE(refused.empty()) << (refused.empty() ? "" : refused.front()) << " of "
                               << catching_up;
}

TEST(ServeLifecycleTest, SecondServeOnOneSqliteFileIsRefused) {
  TempDir dir;
  ServerProcess first(dir.SqliteUrl());
  ASSERT_TRUE(first.Start());
  Api api(first.url());
  ASSERT_EQ(api.Set("a", "1").status, 201);

  CommandOptions options;
  options.timeout = seconds(20);
  auto second = RunCommand({CHRONOCONF_BIN, "serve", "--store", dir.SqliteUrl(), "--listen",
                            "127.0.0.1:" + std::to_string(PickFreePort())},
                           options);
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("already served by process"), std::string::npos) << second.err;

  // The admin commands that only read may run beside the server.
  auto verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()}, options);
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  TempDir target;
  auto copy = RunCommand({CHRONOCONF_BIN, "copy", "--from", dir.SqliteUrl(), "--to",
                          target.SqliteUrl()},
                         options);
  EXPECT_EQ(copy.exit_code, 0) << copy.err;

  // Once the first has stopped, the file can be served again.
  ASSERT_TRUE(first.Stop());
  ServerProcess again(dir.SqliteUrl());
  ASSERT_TRUE(again.Start());
  EXPECT_EQ(RawAt(Api(again.url()).GetKey("a").body, "value"), "1");
}

// Defect 4: SIGTERM cut off requests in flight, among them writes it had
// committed. Now every commit in the store was answered 2xx, and every 2xx
// is in the store.
TEST(ServeLifecycleTest, SigtermAnswersEveryWriteItCommitted) {
  TempDir dir;
  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());
  const std::string url = server.url();

  constexpr int kWriters = 16;
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Api api(url, seconds(20));
      for (int i = 0; !stop.load() && i < 100000; ++i) {
        const std::string key = "w" + std::to_string(w) + "/k" + std::to_string(i);
        auto r = api.Set(key, std::to_string(i));
        if (r.status >= 200 && r.status < 300) {
          std::lock_guard lock(mu);
          acked.insert(key);
          writes.fetch_add(1);
        } else if (r.status == 0) {
          // The server is gone for this client: stop writing.
          return;
        }
      }
    });
  }
  const auto deadline = Clock::now() + seconds(10);
  while (writes.load() < 1000 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_GE(writes.load(), 1000) << "the writers never got going";
  const auto sent = Clock::now();
  ::kill(server.pid(), SIGTERM);
  while (server.running() && Clock::now() - sent < seconds(15)) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  stop.store(true);
  for (auto& t : writers) t.join();
  ASSERT_FALSE(server.running()) << "the server did not exit within 15 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(server.last_wait_status()) && WEXITSTATUS(server.last_wait_status()) == 0)
      << "exit status " << server.last_wait_status() << "; log:\n" << server.Log();

  ASSERT_TRUE(server.Start());
  Api api(server.url());
  std::set<std::string> stored;
  for (int w = 0; w < kWriters; ++w) {
    auto keys = KeysUnder(api, "w" + std::to_string(w) + "/");
    stored.insert(keys.begin(), keys.end());
  }
  for (const std::string& k : acked) {
    EXPECT_TRUE(stored.contains(k)) << "acknowledged write " << k << " was lost";
  }
  for (const std::string& k : stored) {
    EXPECT_TRUE(acked.contains(k)) << "write " << k << " was committed but never answered";
  }
  auto verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST(ServeLifecycleTest, SigtermClosesWatchesAndIdleConnectionsAndExits0) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  WatchStream watch;
  ASSERT_TRUE(watch.Open(server.port(), "/v1/watch"));
  ASSERT_EQ(watch.status(), 200);
  RawConnection idle;
  ASSERT_TRUE(idle.Connect(server.port()));
  const auto sent = Clock::now();
  ::kill(server.pid(), SIGTERM);
  EXPECT_TRUE(idle.ReadUntilClosed(seconds(5))) << "an idle connection must be closed";
  watch.WaitForEvents(1, seconds(5));
  EXPECT_TRUE(watch.closed()) << "a watch must be closed on shutdown";
  while (server.running() && Clock::now() - sent < seconds(5)) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_FALSE(server.running()) << "idle connections must not hold the shutdown";
  EXPECT_TRUE(WIFEXITED(server.last_wait_status()) && WEXITSTATUS(server.last_wait_status()) == 0)
      << server.Log();
}

// At --max-connections, the connection idle longest makes room; when none
// is idle (all are watches) a new one gets a quick 503, never a hang.
TEST(ServeLifecycleTest, ConnectionCapEvictsIdleThenRefuses) {
  ServerProcess server("memory:", {"--max-connections", "8"});
  ASSERT_TRUE(server.Start());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawConnection>());
    ASSERT_TRUE(idle.back()->Connect(server.port()));
  }
  std::this_thread::sleep_for(milliseconds(200));
  Api api(server.url(), seconds(5));
  auto health = api.Get("/healthz");
  EXPECT_EQ(health.status, 200) << "an idle connection must make room: " << health;
  // The one idle longest is closed (which one that is depends on when each
  // session began, on whichever event loop took it).
  std::this_thread::sleep_for(milliseconds(300));
  int closed = 0;
  for (auto& c : idle) closed += c->ReadUntilClosed(milliseconds(100)) ? 1 : 0;
  EXPECT_EQ(closed, 1) << "one idle connection makes room";
  idle.clear();
  std::this_thread::sleep_for(milliseconds(200));

  std::vector<std::unique_ptr<WatchStream>> watches;
  for (int i = 0; i < 8; ++i) {
    watches.push_back(std::make_unique<WatchStream>());
    ASSERT_TRUE(watches.back()->Open(server.port(), "/v1/watch"));
    ASSERT_EQ(watches.back()->status(), 200) << "watch " << i;
  }
  RawConnection refused;
  ASSERT_TRUE(refused.Connect(server.port()));
  std::string got;
  const auto t0 = Clock::now();
  refused.ReadUntilClosed(seconds(5), &got);
  EXPECT_LT(Clock::now() - t0, seconds(2));
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  watches.pop_back();
  std::this_thread::sleep_for(milliseconds(300));
  auto metrics = Api(server.url(), seconds(5)).Get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics;
  double refused_total = -1, evicted_total = -1;
  for (const auto& m : ParseMetrics(metrics.body)) {
    if (m.name == "chronoconf_connections_refused_total") refused_total = m.value;
    if (m.name == "chronoconf_connections_evicted_total") evicted_total = m.value;
  }
  EXPECT_GE(refused_total, 1) << metrics.body;
  EXPECT_GE(evicted_total, 1) << metrics.body;
}

// Found by `bench watch`: a burst of new connections each counted as idle
// until its request arrived, so each accept "evicted" the one before, which
// then began its request and stayed: 20 watches opened at once against a cap
// of 10 were all admitted.
TEST(ServeLifecycleTest, ABurstOfWatchesCannotPassTheConnectionCap) {
  ServerProcess server("memory:", {"--max-connections", "10"});
  ASSERT_TRUE(server.Start());
  std::vector<std::unique_ptr<RawConnection>> burst;
  for (int i = 0; i < 20; ++i) {
    burst.push_back(std::make_unique<RawConnection>());
    ASSERT_TRUE(burst.back()->Connect(server.port()));
    burst.back()->SendAll("GET /v1/watch HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  int streaming = 0, refused = 0;
  for (auto& c : burst) {
    std::string got;
    if (c->ReadSome(&got, seconds(3)) != RawConnection::ReadStatus::kData) {
      ++refused;  // closed without a word: evicted before its request
      continue;
    }
    if (got.rfind("HTTP/1.1 200", 0) == 0) {
      ++streaming;
    } else {
      EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
      ++refused;
    }
  }
  EXPECT_LE(streaming, 10) << "the cap is 10 connections";
  EXPECT_GE(streaming, 1);
  EXPECT_EQ(streaming + refused, 20);
}

// Defect 5: with `ulimit -n 1024` and 1,100 idle connections the server
// spun at 133 % CPU, wrote 150 MB of log in 12 s and stopped answering.
// Here the cap is set above what the limit allows, so accepts really fail.
TEST(ServeLifecycleTest, RunningOutOfDescriptorsBacksOffQuietly) {
  ServerProcess server("memory:", {"--max-connections", "10000"});
  server.set_fd_limit(128);
  ASSERT_TRUE(server.Start());
  std::vector<std::unique_ptr<WatchStream>> held;  // watches: never evicted
  for (int i = 0; i < 200; ++i) {
    auto w = std::make_unique<WatchStream>();
    if (!w->Open(server.port(), "/v1/watch", {}, milliseconds(300))) break;
    held.push_back(std::move(w));
  }
  EXPECT_LT(held.size(), 128u) << "the fd limit should have been reached";
  // More clients queue in the listen backlog while descriptors are out.
  std::vector<std::unique_ptr<RawConnection>> waiting;
  for (int i = 0; i < 100; ++i) {
    waiting.push_back(std::make_unique<RawConnection>());
    waiting.back()->Connect(server.port());
  }
  const double cpu0 = CpuSeconds(server.pid());
  std::this_thread::sleep_for(seconds(2));
  const double cpu = CpuSeconds(server.pid()) - cpu0;
  EXPECT_LT(cpu, 0.5) << "the server must not spin on accept errors";
  const std::string log = server.Log();
  EXPECT_LT(CountOccurrences(log, "accept:"), 5u) << "accept errors must be rate-limited:\n"
                                                   << log.substr(0, 4000);
  waiting.clear();
  held.clear();
  // Once descriptors are free again, it serves.
  bool healthy = false;
  for (auto deadline = Clock::now() + seconds(5); Clock::now() < deadline && !healthy;) {
    healthy = Api(server.url(), seconds(2)).Get("/healthz").status == 200;
  }
  EXPECT_TRUE(healthy) << log.substr(0, 4000);
  auto metrics = Api(server.url(), seconds(5)).Get("/metrics");
  double errors = -1;
  for (const auto& m : ParseMetrics(metrics.body)) {
    if (m.name == "chronoconf_accept_errors_total") errors = m.value;
  }
  EXPECT_GE(errors, 1) << metrics.body;
}

// The default cap stays below the fd limit: idle clients beyond it are
// evicted or refused, and /healthz still answers.
TEST(ServeLifecycleTest, DefaultCapKeepsHealthzAnsweringUnderIdleFlood) {
  ServerProcess server("memory:");
  server.set_fd_limit(256);
  ASSERT_TRUE(server.Start());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<RawConnection>());
    idle.back()->Connect(server.port());
  }
  std::this_thread::sleep_for(milliseconds(500));
  auto h = Api(server.url(), seconds(3)).Get("/healthz");
  EXPECT_EQ(h.status, 200) << h << "\n" << server.Log().substr(0, 4000);
  EXPECT_LT(CountOccurrences(server.Log(), "accept:"), 5u);
}

}  // namespace
}  // namespace chronoconf::test
