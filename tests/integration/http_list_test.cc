// SPEC §2.2 GET /v1/kv (listing, paging, at_revision/at_time, min_revision)
// and time travel of one key (GET /v1/kv/{key}?at_revision|at_time).
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class HttpListTest : public ServerTest {
 protected:
  std::vector<std::string> Keys(ApiResponse& r) {
    std::vector<std::string> keys;
    for (auto& e : r.json["entries"]) keys.push_back(e["key"].get<std::string>());
    return keys;
  }
  // The revision a write response names.
  static int64_t Rev(ApiResponse& r) { return r.json["revision"].get<int64_t>(); }
};

TEST_F(HttpListTest, ListsKeysUnderPrefixSorted) {
  for (const char* k : {"b", "a.x", "c/d", "a", "B"}) ASSERT_EQ(api().Set(K(k), "1").status, 201);
  ASSERT_EQ(api().Set(K("a-z"), "2").status, 201);
  const int64_t head = Head();
  auto r = api().Get("/v1/kv?prefix=" + Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head);
  EXPECT_EQ(Keys(r), (std::vector<std::string>{K("B"), K("a"), K("a-z"), K("a.x"), K("b"),
                                                K("c/d")}));
  EXPECT_FALSE(r.json.contains("next")) << r;
  auto& e = r.json["entries"][0];
  EXPECT_EQ(e["value"], 1);
  EXPECT_EQ(e["version"], 1);
  EXPECT_TRUE(e.contains("created_revision") && e.contains("modified_revision") &&
              e.contains("modified_at") && e.contains("modified_by"))
      << e;
  EXPECT_EQ(r.RevisionHeader(), head);
}

TEST_F(HttpListTest, PrefixOfAnotherTestSeesNothingOfOurs) {
  ASSERT_EQ(api().Set(K("mine"), "1").status, 201);
  auto r = api().Get("/v1/kv?prefix=" + Q(prefix() + "nothing/"));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(r.json["entries"].empty()) << r;
}

TEST_F(HttpListTest, DeletedKeysAreNotListed) {
  ASSERT_EQ(api().Set(K("keep"), "1").status, 201);
  ASSERT_EQ(api().Set(K("gone"), "1").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("gone")).status, 200);
  auto r = api().Get("/v1/kv?prefix=" + Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(Keys(r), std::vector<std::string>{K("keep")});
}

TEST_F(HttpListTest, PagesWithLimitAndAfter) {
  std::vector<std::string> all;
  for (int i = 0; i < 7; ++i) {
    all.push_back(K("k" + std::to_string(i)));
    ASSERT_EQ(api().Set(all.back(), std::to_string(i)).status, 201);
  }
  auto first = api().Get("/v1/kv?limit=3&prefix=" + Q(prefix()));
  ASSERT_EQ(first.status, 200) << first;
  ASSERT_EQ(first.json["entries"].size(), 3u) << first;
  ASSERT_TRUE(first.json.contains("next") && first.json["next"].is_string()) << first;

  std::vector<std::string> seen = Keys(first);
  std::string next = first.json["next"].get<std::string>();
  for (int page = 0; page < 10; ++page) {
    auto r = api().Get("/v1/kv?limit=3&prefix=" + Q(prefix()) + "&after=" + Q(next));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_LE(r.json["entries"].size(), 3u);
    for (auto& k : Keys(r)) seen.push_back(k);
    if (!r.json.contains("next")) break;
    next = r.json["next"].get<std::string>();
  }
  EXPECT_EQ(seen, all);
}

TEST_F(HttpListTest, LimitAbove10000IsRejected) {
  auto over = api().Get("/v1/kv?limit=10001");
  EXPECT_EQ(over.status, 400) << over;
  EXPECT_EQ(over.ErrorCode(), "invalid_request");
  auto max = api().Get("/v1/kv?limit=10000&prefix=" + Q(prefix()));
  EXPECT_EQ(max.status, 200) << max;
}

TEST_F(HttpListTest, ListAtRevision) {
  auto w1 = api().Set(K("a"), "1");
  auto w2 = api().Set(K("b"), "2");
  auto w3 = api().Set(K("a"), "3");
  auto w4 = api().Delete("/v1/kv/" + K("b"));
  ASSERT_EQ(w4.status, 200) << w4;
  const int64_t r1 = Rev(w1), r2 = Rev(w2), r3 = Rev(w3);

  auto at1 = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_revision=" + std::to_string(r1));
  ASSERT_EQ(at1.status, 200) << at1;
  EXPECT_EQ(at1.json["revision"], r1);
  EXPECT_EQ(Keys(at1), std::vector<std::string>{K("a")});

  auto at2 = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_revision=" + std::to_string(r2));
  ASSERT_EQ(at2.status, 200) << at2;
  EXPECT_EQ(at2.json["revision"], r2);
  EXPECT_EQ(Keys(at2), (std::vector<std::string>{K("a"), K("b")}));
  EXPECT_EQ(at2.json["entries"][0]["value"], 1);
  EXPECT_EQ(at2.json["entries"][0]["version"], 1);

  auto at3 = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_revision=" + std::to_string(r3));
  ASSERT_EQ(at3.status, 200) << at3;
  EXPECT_EQ(at3.json["entries"][0]["value"], 3);
  EXPECT_EQ(at3.json["entries"][0]["version"], 2);
  EXPECT_EQ(at3.json["entries"][1]["value"], 2);

  auto now = api().Get("/v1/kv?prefix=" + Q(prefix()));
  EXPECT_EQ(Keys(now), std::vector<std::string>{K("a")});

  auto before = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_revision=" + std::to_string(r1 - 1));
  ASSERT_EQ(before.status, 200) << before;
  EXPECT_TRUE(before.json["entries"].empty()) << before;
}

TEST_F(HttpListTest, ListAtRevisionAboveHeadIsFutureRevision) {
  auto r = api().Get("/v1/kv?at_revision=" + std::to_string(Head() + 1));
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "future_revision");
}

TEST_F(HttpListTest, ListAtTime) {
  auto w1 = api().Set(K("a"), "1");
  std::this_thread::sleep_for(milliseconds(5));
  auto w2 = api().Set(K("a"), "2");
  std::this_thread::sleep_for(milliseconds(5));
  auto w3 = api().Set(K("b"), "3");
  ASSERT_EQ(w3.status, 201) << w3;
  const std::string t1 = w1.json["entry"]["modified_at"].get<std::string>();
  const std::string t2 = w2.json["entry"]["modified_at"].get<std::string>();

  auto at2 = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_time=" + Q(t2));
  ASSERT_EQ(at2.status, 200) << at2;
  EXPECT_EQ(at2.json["revision"], Rev(w2));
  EXPECT_EQ(Keys(at2), std::vector<std::string>{K("a")});
  EXPECT_EQ(at2.json["entries"][0]["value"], 2);

  // Between the first and the second commit.
  auto mid = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_time=" +
                       Q(FormatMicros(TimeMicros(t1) + 1000)));
  ASSERT_EQ(mid.status, 200) << mid;
  EXPECT_EQ(mid.json["revision"], Rev(w1));
  EXPECT_EQ(mid.json["entries"][0]["value"], 1);

  auto long_ago = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&at_time=" +
                            Q("2000-01-01T00:00:00.000000Z"));
  ASSERT_EQ(long_ago.status, 200) << long_ago;
  EXPECT_EQ(long_ago.json["revision"], 0);
  EXPECT_TRUE(long_ago.json["entries"].empty());
}

TEST_F(HttpListTest, MinRevisionAlreadyReachedAnswersAtOnce) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  auto t0 = Clock::now();
  auto r = api().Get("/v1/kv?prefix=" + Q(prefix()) + "&min_revision=" + std::to_string(head) +
                     "&timeout_ms=5000");
  auto took = Clock::now() - t0;
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_LT(took, milliseconds(1000));
  EXPECT_GE(r.json["revision"].get<int64_t>(), head);
  auto k = api().GetKey(K("a"), "min_revision=" + std::to_string(head));
  EXPECT_EQ(k.status, 200) << k;
}

TEST_F(HttpListTest, MinRevisionNotReachedTimesOut) {
  const int64_t head = Head();
  auto t0 = Clock::now();
  auto r = api().Get("/v1/kv?min_revision=" + std::to_string(head + 1000) + "&timeout_ms=200");
  auto took = Clock::now() - t0;
  EXPECT_EQ(r.status, 504) << r;
  EXPECT_EQ(r.ErrorCode(), "timeout");
  EXPECT_GE(took, milliseconds(150));
  EXPECT_LT(took, milliseconds(3000));

  auto k = api().GetKey(K("x"), "min_revision=" + std::to_string(head + 1000) + "&timeout_ms=100");
  EXPECT_EQ(k.status, 504) << k;
  EXPECT_EQ(k.ErrorCode(), "timeout");
}

TEST_F(HttpListTest, MinRevisionWaitsForACommit) {
  const int64_t head = Head();
  ApiResponse waited;
  Clock::duration took{};
  std::thread reader([&] {
    Api other(server()->url());
    auto t0 = Clock::now();
    waited = other.GetKey(K("later"), "min_revision=" + std::to_string(head + 1) +
                                          "&timeout_ms=5000");
    took = Clock::now() - t0;
  });
  std::this_thread::sleep_for(milliseconds(150));
  auto w = api().Set(K("later"), "42");
  reader.join();
  ASSERT_EQ(w.status, 201) << w;
  ASSERT_EQ(waited.status, 200) << waited;
  EXPECT_EQ(waited.json["value"], 42);
  EXPECT_LT(took, milliseconds(3000));
}

// ---------------------------------------------------------------- time travel

class HttpTimeTravelTest : public ServerTest {
 protected:
  static int64_t Rev(ApiResponse& r) { return r.json["revision"].get<int64_t>(); }
};

TEST_F(HttpTimeTravelTest, KeyAtRevision) {
  auto w1 = api().Set(K("a"), "1");
  auto w2 = api().Set(K("a"), "2");
  auto w3 = api().Delete("/v1/kv/" + K("a"));
  auto w4 = api().Set(K("a"), "4");
  ASSERT_EQ(w4.status, 201) << w4;
  const int64_t r1 = Rev(w1), r2 = Rev(w2), r3 = Rev(w3), r4 = Rev(w4);

  auto at1 = api().GetKey(K("a"), "at_revision=" + std::to_string(r1));
  ASSERT_EQ(at1.status, 200) << at1;
  EXPECT_EQ(at1.json["value"], 1);
  EXPECT_EQ(at1.json["version"], 1);
  EXPECT_EQ(at1.json["modified_revision"], r1);

  auto at2 = api().GetKey(K("a"), "at_revision=" + std::to_string(r2));
  ASSERT_EQ(at2.status, 200) << at2;
  EXPECT_EQ(at2.json["value"], 2);
  EXPECT_EQ(at2.json["version"], 2);
  EXPECT_EQ(at2.json["created_revision"], r1);

  auto at3 = api().GetKey(K("a"), "at_revision=" + std::to_string(r3));
  EXPECT_EQ(at3.status, 404) << "deleted at r3: " << at3;
  EXPECT_EQ(at3.ErrorCode(), "not_found");

  auto at4 = api().GetKey(K("a"), "at_revision=" + std::to_string(r4));
  ASSERT_EQ(at4.status, 200) << at4;
  EXPECT_EQ(at4.json["value"], 4);
  EXPECT_EQ(at4.json["version"], 4);
  EXPECT_EQ(at4.json["created_revision"], r4);

  auto before = api().GetKey(K("a"), "at_revision=" + std::to_string(r1 - 1));
  EXPECT_EQ(before.status, 404) << "did not exist yet: " << before;
  EXPECT_EQ(before.ErrorCode(), "not_found");

  auto zero = api().GetKey(K("a"), "at_revision=0");
  EXPECT_EQ(zero.status, 404) << zero;
}

TEST_F(HttpTimeTravelTest, OldValueTextIsKept) {
  auto w1 = api().Set(K("t"), R"({"b":1.50,"a":100000000000000000001})");
  ASSERT_EQ(api().Set(K("t"), "0").status, 200);
  auto at = api().GetKey(K("t"), "at_revision=" + std::to_string(Rev(w1)));
  ASSERT_EQ(at.status, 200) << at;
  EXPECT_EQ(RawAt(at.body, "value"), R"({"b":1.50,"a":100000000000000000001})");
}

TEST_F(HttpTimeTravelTest, FutureRevisionIsRejected) {
  ASSERT_EQ(api().Set(K("f"), "1").status, 201);
  const int64_t head = Head();
  auto r = api().GetKey(K("f"), "at_revision=" + std::to_string(head + 1));
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "future_revision");
  auto ok = api().GetKey(K("f"), "at_revision=" + std::to_string(head));
  EXPECT_EQ(ok.status, 200) << ok;
}

TEST_F(HttpTimeTravelTest, KeyAtTime) {
  auto w1 = api().Set(K("a"), "1");
  std::this_thread::sleep_for(milliseconds(5));
  auto w2 = api().Set(K("a"), "2");
  std::this_thread::sleep_for(milliseconds(5));
  auto w3 = api().Delete("/v1/kv/" + K("a"));
  std::this_thread::sleep_for(milliseconds(5));
  ASSERT_EQ(api().Set(K("other"), "0").status, 201);
  ASSERT_EQ(w3.status, 200) << w3;
  const std::string t1 = w1.json["entry"]["modified_at"].get<std::string>();
  const std::string t2 = w2.json["entry"]["modified_at"].get<std::string>();
  auto h = api().Get("/v1/history/" + K("a"));
  ASSERT_EQ(h.status, 200) << h;
  const std::string t3 = h.json["events"][0]["timestamp"].get<std::string>();
  ASSERT_LT(TimeMicros(t1), TimeMicros(t2));
  ASSERT_LT(TimeMicros(t2), TimeMicros(t3));

  auto at1 = api().GetKey(K("a"), "at_time=" + Q(t1));
  ASSERT_EQ(at1.status, 200) << at1;
  EXPECT_EQ(at1.json["value"], 1);
  auto mid = api().GetKey(K("a"), "at_time=" + Q(FormatMicros(TimeMicros(t1) + 1000)));
  ASSERT_EQ(mid.status, 200) << mid;
  EXPECT_EQ(mid.json["value"], 1);
  auto at2 = api().GetKey(K("a"), "at_time=" + Q(t2));
  ASSERT_EQ(at2.status, 200) << at2;
  EXPECT_EQ(at2.json["value"], 2);
  auto at3 = api().GetKey(K("a"), "at_time=" + Q(t3));
  EXPECT_EQ(at3.status, 404) << at3;
  auto before = api().GetKey(K("a"), "at_time=" + Q(FormatMicros(TimeMicros(t1) - 1000)));
  EXPECT_EQ(before.status, 404) << before;
  EXPECT_EQ(before.ErrorCode(), "not_found");
}

TEST_F(HttpTimeTravelTest, MalformedTimeIsInvalidRequest) {
  ASSERT_EQ(api().Set(K("m"), "1").status, 201);
  for (const char* t : {"yesterday", "2026-13-01T00:00:00Z", "12345"}) {
    auto r = api().GetKey(K("m"), std::string("at_time=") + Q(t));
    EXPECT_EQ(r.status, 400) << t << ": " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_request") << t;
  }
}

}  // namespace
}  // namespace chronoconf::test
