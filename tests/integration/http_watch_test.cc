// SPEC §2.3 GET /v1/watch: Server-Sent Events, catch-up then live, prefix,
// Last-Event-ID, `id:` on the last event of each commit, slow watchers.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

int64_t Rev(ApiResponse& r) { return r.json["revision"].get<int64_t>(); }

class HttpWatchTest : public ServerTest {
 protected:
  std::unique_ptr<WatchStream> Watch(const std::string& query, const Headers& headers = {}) {
    auto w = std::make_unique<WatchStream>();
    EXPECT_TRUE(w->Open(server()->port(), "/v1/watch?" + query, headers)) << query;
    EXPECT_EQ(w->status(), 200) << query;
    EXPECT_EQ(w->Header("content-type").rfind("text/event-stream", 0), 0u)
        << w->Header("content-type");
    return w;
  }
  std::string PrefixQuery(const std::string& p) { return "prefix=" + Q(p); }
  static std::string Dump(const WatchStream& w) {
    std::string out;
    for (const auto& e : w.events()) {
      out += "event:" + e.event + " id:" + e.id.value_or("-") + " data:" + e.data + "\n";
    }
    return out;
  }
};

TEST_F(HttpWatchTest, CatchUpThenLive) {
  const int64_t h0 = Head();
  auto w1 = api().Set(K("a"), "1.50");
  auto w2 = api().Set(K("b"), R"({"y":2,"x":1})");
  auto w3 = api().Delete("/v1/kv/" + K("a"));
  ASSERT_EQ(w3.status, 200) << w3;
  auto w = Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0));
  ASSERT_TRUE(w->WaitForEvents(3)) << Dump(*w);
  auto& ev = w->events();
  EXPECT_EQ(ev[0].event, "ConfigSet");
  EXPECT_EQ(ev[0].json["key"], K("a"));
  EXPECT_EQ(ev[0].json["revision"], Rev(w1));
  EXPECT_EQ(ev[0].json["type"], "ConfigSet");
  EXPECT_EQ(ev[0].json["version"], 1);
  EXPECT_EQ(RawAt(ev[0].data, "value"), "1.50");
  EXPECT_EQ(ev[0].id, std::to_string(Rev(w1)));
  EXPECT_EQ(RawAt(ev[1].data, "value"), R"({"y":2,"x":1})");
  EXPECT_EQ(ev[1].id, std::to_string(Rev(w2)));
  EXPECT_EQ(ev[2].event, "ConfigDeleted");
  EXPECT_EQ(ev[2].json["type"], "ConfigDeleted");
  EXPECT_FALSE(ev[2].json.contains("value")) << ev[2].data;
  EXPECT_EQ(RawAt(ev[2].data, "previous_value"), "1.50");
  EXPECT_EQ(ev[2].id, std::to_string(Rev(w3)));

  auto live = api().Set(K("c"), "3", {{"X-Actor", "eve"}});
  ASSERT_EQ(live.status, 201) << live;
  ASSERT_TRUE(w->WaitForEvents(4)) << Dump(*w);
  EXPECT_EQ(w->events()[3].json["key"], K("c"));
  EXPECT_EQ(w->events()[3].json["actor"], "eve");
  EXPECT_EQ(w->events()[3].id, std::to_string(Rev(live)));
  EXPECT_FALSE(w->WaitForEvents(5, milliseconds(200))) << Dump(*w);
}

TEST_F(HttpWatchTest, PrefixFilter) {
  const int64_t h0 = Head();
  ASSERT_EQ(api().Set(K("in/a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("out/b"), "2").status, 201);
  auto w = Watch(PrefixQuery(K("in/")) + "&from_revision=" + std::to_string(h0));
  ASSERT_EQ(api().Set(K("out/c"), "3").status, 201);
  ASSERT_EQ(api().Set(K("in/d"), "4").status, 201);
  ASSERT_TRUE(w->WaitForEvents(2)) << Dump(*w);
  EXPECT_EQ(w->events()[0].json["key"], K("in/a"));
  EXPECT_EQ(w->events()[1].json["key"], K("in/d"));
  EXPECT_FALSE(w->WaitForEvents(3, milliseconds(200))) << Dump(*w);
}

TEST_F(HttpWatchTest, LastEventIdWinsOverFromRevision) {
  const int64_t h0 = Head();
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  auto w2 = api().Set(K("a"), "2");
  auto w3 = api().Set(K("a"), "3");
  ASSERT_EQ(w3.status, 200) << w3;
  auto w = Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0),
                 {{"Last-Event-ID", std::to_string(Rev(w2))}});
  ASSERT_TRUE(w->WaitForEvents(1)) << Dump(*w);
  EXPECT_EQ(w->events()[0].json["revision"], Rev(w3));
  EXPECT_FALSE(w->WaitForEvents(2, milliseconds(200))) << Dump(*w);
}

TEST_F(HttpWatchTest, IdOnlyOnTheLastEventSentForEachCommit) {
  const int64_t h0 = Head();
  auto t1 = api().Post("/v1/txn", json{{"ops",
                                        {{{"op", "set"}, {"key", K("p/a")}, {"value", 1}},
                                         {{"op", "set"}, {"key", K("p/b")}, {"value", 2}},
                                         {{"op", "set"}, {"key", K("q/c")}, {"value", 3}}}}}
                                      .dump());
  ASSERT_EQ(t1.status, 200) << t1;
  auto t2 = api().Post("/v1/txn", json{{"ops",
                                        {{{"op", "set"}, {"key", K("q/x")}, {"value", 1}},
                                         {{"op", "set"}, {"key", K("p/y")}, {"value", 2}}}}}
                                      .dump());
  ASSERT_EQ(t2.status, 200) << t2;
  const std::string r1 = std::to_string(Rev(t1));
  const std::string r2 = std::to_string(Rev(t2));

  // All events: the id rides on the last event of each commit.
  auto all = Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0));
  ASSERT_TRUE(all->WaitForEvents(5)) << Dump(*all);
  EXPECT_EQ(all->events()[0].id, std::nullopt) << Dump(*all);
  EXPECT_EQ(all->events()[1].id, std::nullopt) << Dump(*all);
  EXPECT_EQ(all->events()[2].id, r1) << Dump(*all);
  EXPECT_EQ(all->events()[3].id, std::nullopt) << Dump(*all);
  EXPECT_EQ(all->events()[4].id, r2) << Dump(*all);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(all->events()[i].json["index"], i);

  // Filtered: on the last event that matches the prefix.
  auto p = Watch(PrefixQuery(K("p/")) + "&from_revision=" + std::to_string(h0));
  ASSERT_TRUE(p->WaitForEvents(3)) << Dump(*p);
  EXPECT_EQ(p->events()[0].json["key"], K("p/a"));
  EXPECT_EQ(p->events()[0].id, std::nullopt) << Dump(*p);
  EXPECT_EQ(p->events()[1].json["key"], K("p/b"));
  EXPECT_EQ(p->events()[1].id, r1) << Dump(*p);
  EXPECT_EQ(p->events()[2].json["key"], K("p/y"));
  EXPECT_EQ(p->events()[2].id, r2) << Dump(*p);
  EXPECT_FALSE(p->WaitForEvents(4, milliseconds(200))) << Dump(*p);

  // Live commits follow the same rule.
  auto t3 = api().Post("/v1/txn", json{{"ops",
                                        {{{"op", "set"}, {"key", K("p/m")}, {"value", 1}},
                                         {{"op", "set"}, {"key", K("p/n")}, {"value", 2}}}}}
                                      .dump());
  ASSERT_EQ(t3.status, 200) << t3;
  ASSERT_TRUE(p->WaitForEvents(5)) << Dump(*p);
  EXPECT_EQ(p->events()[3].id, std::nullopt) << Dump(*p);
  EXPECT_EQ(p->events()[4].id, std::to_string(Rev(t3))) << Dump(*p);
}

TEST_F(HttpWatchTest, WithoutFromRevisionOnlyNewCommits) {
  ASSERT_EQ(api().Set(K("old"), "1").status, 201);
  auto w = Watch(PrefixQuery(prefix()));
  EXPECT_FALSE(w->WaitForEvents(1, milliseconds(200))) << Dump(*w);
  auto fresh = api().Set(K("new"), "2");
  ASSERT_EQ(fresh.status, 201) << fresh;
  ASSERT_TRUE(w->WaitForEvents(1)) << Dump(*w);
  EXPECT_EQ(w->events()[0].json["key"], K("new"));
  EXPECT_EQ(w->events()[0].id, std::to_string(Rev(fresh)));
  EXPECT_FALSE(w->WaitForEvents(2, milliseconds(200))) << Dump(*w);
}

TEST_F(HttpWatchTest, ResumeWithLastEventIdMissesNothing) {
  const int64_t h0 = Head();
  for (int i = 0; i < 3; ++i) ASSERT_LT(api().Set(K("r"), std::to_string(i)).status, 300);
  auto w = Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0));
  ASSERT_TRUE(w->WaitForEvents(3)) << Dump(*w);
  ASSERT_TRUE(w->events()[2].id.has_value());
  const std::string last_id = *w->events()[2].id;
  w->Close();
  for (int i = 3; i < 5; ++i) ASSERT_LT(api().Set(K("r"), std::to_string(i)).status, 300);
  auto resumed = Watch(PrefixQuery(prefix()), {{"Last-Event-ID", last_id}});
  ASSERT_TRUE(resumed->WaitForEvents(2)) << Dump(*resumed);
  EXPECT_EQ(resumed->events()[0].json["value"], 3);
  EXPECT_EQ(resumed->events()[1].json["value"], 4);
  EXPECT_FALSE(resumed->WaitForEvents(3, milliseconds(200))) << Dump(*resumed);
}

TEST_F(HttpWatchTest, LongCatchUpArrivesInOrder) {
  const int64_t h0 = Head();
  for (int i = 0; i < 300; ++i) {
    ASSERT_LT(api().Set(K("k" + std::to_string(i % 7)), std::to_string(i)).status, 300);
  }
  auto w = Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0));
  ASSERT_TRUE(w->WaitForEvents(300, std::chrono::seconds(10))) << w->events().size();
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(w->events()[static_cast<size_t>(i)].json["value"], i) << "event " << i;
  }
}

TEST_F(HttpWatchTest, CatchUpHandsOverToLiveWithoutGapOrDuplicate) {
  const int64_t h0 = Head();
  constexpr int kWrites = 150;
  std::atomic<int> written{0};
  std::thread writer([&] {
    Api own(server()->url());
    for (int i = 0; i < kWrites; ++i) {
      auto r = own.Set(K("w"), std::to_string(i));
      if (r.status >= 300) break;
      ++written;
    }
  });
  while (written < kWrites / 3) std::this_thread::sleep_for(milliseconds(1));
  auto w = Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0));
  writer.join();
  ASSERT_EQ(written, kWrites);
  ASSERT_TRUE(w->WaitForEvents(kWrites, std::chrono::seconds(10))) << w->events().size();
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_EQ(w->events()[static_cast<size_t>(i)].json["value"], i) << "event " << i;
    ASSERT_EQ(w->events()[static_cast<size_t>(i)].json["revision"], h0 + 1 + i);
  }
  EXPECT_FALSE(w->WaitForEvents(kWrites + 1, milliseconds(200)));
}

TEST_F(HttpWatchTest, EveryWatcherSeesEveryCommit) {
  const int64_t h0 = Head();
  std::vector<std::unique_ptr<WatchStream>> watchers;
  for (int i = 0; i < 4; ++i) {
    watchers.push_back(Watch(PrefixQuery(prefix()) + "&from_revision=" + std::to_string(h0)));
  }
  for (int i = 0; i < 10; ++i) ASSERT_LT(api().Set(K("x"), std::to_string(i)).status, 300);
  for (auto& w : watchers) {
    ASSERT_TRUE(w->WaitForEvents(10)) << Dump(*w);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(w->events()[static_cast<size_t>(i)].json["value"], i);
  }
}

TEST_F(HttpWatchTest, BadParametersAreAnsweredWithAJsonError) {
  WatchStream w;
  ASSERT_TRUE(w.Open(server()->port(), "/v1/watch?from_revision=abc"));
  EXPECT_EQ(w.status(), 400);
  EXPECT_EQ(w.Header("content-type").rfind("application/json", 0), 0u);
  auto r = api().Get("/v1/watch?from_revision=-1");
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "invalid_request") << r;
}

// ---------------------------------------------------------------- slow watchers

// The value of the gauge that counts open watchers, if /metrics has one.
std::optional<double> WatcherGauge(Api& api) {
  auto m = api.Get("/metrics");
  std::optional<double> first;
  for (const auto& s : ParseMetrics(m.body)) {
    if (s.name.find("watch") == std::string::npos) continue;
    if (s.name.ends_with("_total") || s.name.ends_with("_count") || s.name.ends_with("_sum") ||
        s.name.ends_with("_bucket") || s.name.ends_with("_created")) {
      continue;
    }
    if (s.name.ends_with("watchers")) return s.value;
    if (!first) first = s.value;
  }
  return first;
}

bool WaitForGauge(Api& api, double want, milliseconds timeout, double* last) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto g = WatcherGauge(api);
    *last = g.value_or(-1);
    if (g && *g == want) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::string StalledRequest(const std::string& prefix) {
  return "GET /v1/watch?prefix=" + Q(prefix) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
}

class HttpSlowWatcherTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer("memory:", {"--watch-send-timeout-ms", "300"});
  }
};

TEST_F(HttpSlowWatcherTest, StalledWatcherIsDroppedWhileWritesGoOn) {
  // A watcher that never reads, with a tiny receive window.
  RawConnection stalled;
  ASSERT_TRUE(stalled.Connect(server()->port(), 4096));
  ASSERT_TRUE(stalled.SendAll(StalledRequest(prefix())));
  // A healthy watcher that reads all along.
  WatchStream healthy;
  ASSERT_TRUE(healthy.Open(server()->port(), "/v1/watch?prefix=" + Q(prefix())));
  ASSERT_EQ(healthy.status(), 200);

  double gauge = -1;
  const bool gauge_seen = WaitForGauge(api(), 2, milliseconds(3000), &gauge);
  EXPECT_TRUE(gauge_seen) << "/metrics should count 2 watchers, has " << gauge;

  constexpr int kWrites = 40;
  bool healthy_ok = false;
  // ThreadSanitizer checks every byte copied (40 frames of 400 KB to each
  // watcher), and the coverage build (-O0, counters on every branch) reads
  // them in this process too: the timing bounds are for the optimized,
  // uninstrumented builds; the others look for races and count lines.
#if defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
  constexpr auto kSlowestWrite = std::chrono::seconds(5);
  constexpr auto kAllWrites = std::chrono::seconds(60);
  constexpr auto kHealthyGetsAll = std::chrono::seconds(120);
#else
  constexpr auto kSlowestWrite = milliseconds(1000);
  constexpr auto kAllWrites = std::chrono::seconds(10);
  constexpr auto kHealthyGetsAll = std::chrono::seconds(30);
#endif
  std::thread reader([&] { healthy_ok = healthy.WaitForEvents(kWrites, kHealthyGetsAll); });

  const std::string big(200 * 1024, 'x');
  Clock::duration slowest{};
  const auto t_all = Clock::now();
  for (int i = 0; i < kWrites; ++i) {
    auto t0 = Clock::now();
    auto r = api().Set(K("big"), "\"" + std::to_string(i) + big + "\"");
    slowest = std::max(slowest, Clock::now() - t0);
    ASSERT_LT(r.status, 300) << r;
  }
  const auto total = Clock::now() - t_all;
  reader.join();
  EXPECT_LT(slowest, kSlowestWrite) << "a stalled watcher must not block writers";
  EXPECT_LT(total, kAllWrites);
  EXPECT_TRUE(healthy_ok) << "healthy watcher got " << healthy.events().size() << " of "
                          << kWrites;

  // The stalled socket is read only once the server has dropped it: reading
  // earlier would let the server's pending write finish.
  if (gauge_seen) {
    EXPECT_TRUE(WaitForGauge(api(), 1, milliseconds(3000), &gauge))
        << "/metrics should count only the healthy watcher, has " << gauge;
  }
  EXPECT_TRUE(stalled.ReadUntilClosed(std::chrono::seconds(10)))
      << "the stalled watcher's connection should have been closed; log:\n" << server()->Log();
  EXPECT_FALSE(healthy.closed()) << "the healthy watcher must not be dropped";
}

TEST(HttpSlowWatcherLongTimeoutTest, StalledWatcherNeverBlocksWriters) {
  // Even before the send timeout drops it, a stalled watcher costs writers
  // nothing.
  ServerProcess server("memory:", {"--watch-send-timeout-ms", "60000"});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  RawConnection stalled;
  ASSERT_TRUE(stalled.Connect(server.port(), 4096));
  ASSERT_TRUE(stalled.SendAll(StalledRequest("s/")));
  std::this_thread::sleep_for(milliseconds(100));
  const std::string big(200 * 1024, 'y');
  Clock::duration slowest{};
  for (int i = 0; i < 40; ++i) {
    auto t0 = Clock::now();
    auto r = api.Set("s/big", "\"" + std::to_string(i) + big + "\"");
    slowest = std::max(slowest, Clock::now() - t0);
    ASSERT_LT(r.status, 300) << r;
  }
#if defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
  constexpr auto kSlowestWrite = std::chrono::seconds(5);  // every copied byte is checked
#else
  constexpr auto kSlowestWrite = milliseconds(1000);
#endif
  EXPECT_LT(slowest, kSlowestWrite) << "a stalled watcher must not block writers";
  auto h = api.Get("/healthz");
  EXPECT_EQ(h.status, 200);
}

}  // namespace
}  // namespace chronoconf::test
