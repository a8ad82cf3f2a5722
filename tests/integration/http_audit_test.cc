// SPEC §1.1, §2.3: GET /v1/history/{key}, GET /v1/events, GET /v1/revisions/{R}
// and the hash chain.
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

int64_t Rev(ApiResponse& r) { return r.json["revision"].get<int64_t>(); }

// ---------------------------------------------------------------- history

class HttpHistoryTest : public ServerTest {};

TEST_F(HttpHistoryTest, NewestFirstWithPreviousValues) {
  auto w1 = api().Set(K("h"), "1", {{"X-Actor", "alice"}});
  auto w2 = api().Set(K("h"), "2");
  auto w3 = api().Set(K("h"), R"({"v":3.0})");
  auto w4 = api().Delete("/v1/kv/" + K("h"));
  ASSERT_EQ(w4.status, 200) << w4;
  auto r = api().Get("/v1/history/" + K("h"));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["key"], K("h"));
  auto& ev = r.json["events"];
  ASSERT_EQ(ev.size(), 4u) << r;
  EXPECT_FALSE(r.json.contains("next_before_revision")) << r;

  EXPECT_EQ(ev[0]["revision"], Rev(w4));
  EXPECT_EQ(ev[0]["type"], "ConfigDeleted");
  EXPECT_EQ(ev[0]["version"], 4);
  EXPECT_FALSE(ev[0].contains("value")) << "ConfigDeleted carries no value: " << ev[0];
  EXPECT_EQ(RawAt(r.body, "events.0.previous_value"), R"({"v":3.0})");

  EXPECT_EQ(ev[1]["revision"], Rev(w3));
  EXPECT_EQ(ev[1]["type"], "ConfigSet");
  EXPECT_EQ(ev[1]["version"], 3);
  EXPECT_EQ(RawAt(r.body, "events.1.value"), R"({"v":3.0})");
  EXPECT_EQ(ev[1]["previous_value"], 2);

  EXPECT_EQ(ev[2]["revision"], Rev(w2));
  EXPECT_EQ(ev[2]["value"], 2);
  EXPECT_EQ(ev[2]["previous_value"], 1);

  EXPECT_EQ(ev[3]["revision"], Rev(w1));
  EXPECT_EQ(ev[3]["version"], 1);
  EXPECT_EQ(ev[3]["value"], 1);
  EXPECT_FALSE(ev[3].contains("previous_value")) << ev[3];
  EXPECT_EQ(ev[3]["actor"], "alice");
  for (auto& e : ev) {
    EXPECT_EQ(e["key"], K("h"));
    EXPECT_EQ(e["index"], 0);
    EXPECT_TRUE(IsTimestamp(e.value("timestamp", ""))) << e;
    EXPECT_TRUE(e["actor"].is_string()) << e;
  }
}

TEST_F(HttpHistoryTest, LimitAndBeforeRevisionPaging) {
  std::vector<int64_t> revs;
  for (int i = 0; i < 5; ++i) {
    auto w = api().Set(K("p"), std::to_string(i));
    ASSERT_LT(w.status, 300) << w;
    revs.push_back(Rev(w));
  }
  auto first = api().Get("/v1/history/" + K("p") + "?limit=2");
  ASSERT_EQ(first.status, 200) << first;
  ASSERT_EQ(first.json["events"].size(), 2u);
  EXPECT_EQ(first.json["events"][0]["revision"], revs[4]);
  EXPECT_EQ(first.json["events"][1]["revision"], revs[3]);
  ASSERT_TRUE(first.json.contains("next_before_revision")) << first;

  std::vector<int64_t> seen = {revs[4], revs[3]};
  int64_t before = first.json["next_before_revision"].get<int64_t>();
  for (int page = 0; page < 10; ++page) {
    auto r = api().Get("/v1/history/" + K("p") + "?limit=2&before_revision=" +
                       std::to_string(before));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_LE(r.json["events"].size(), 2u);
    for (auto& e : r.json["events"]) seen.push_back(e["revision"].get<int64_t>());
    if (!r.json.contains("next_before_revision") || r.json["events"].empty()) break;
    before = r.json["next_before_revision"].get<int64_t>();
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{revs[4], revs[3], revs[2], revs[1], revs[0]}));
}

TEST_F(HttpHistoryTest, DefaultLimitIs100) {
  for (int i = 0; i < 103; ++i) ASSERT_LT(api().Set(K("many"), std::to_string(i)).status, 300);
  auto r = api().Get("/v1/history/" + K("many"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["events"].size(), 100u);
  ASSERT_TRUE(r.json.contains("next_before_revision")) << "more events remain";
  auto rest = api().Get("/v1/history/" + K("many") + "?before_revision=" +
                        std::to_string(r.json["next_before_revision"].get<int64_t>()));
  ASSERT_EQ(rest.status, 200) << rest;
  ASSERT_EQ(rest.json["events"].size(), 3u) << rest;
  EXPECT_EQ(rest.json["events"][2]["version"], 1);
}

TEST_F(HttpHistoryTest, DeletedKeyKeepsItsHistory) {
  ASSERT_EQ(api().Set(K("d"), "1").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("d")).status, 200);
  auto r = api().Get("/v1/history/" + K("d"));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["events"].size(), 2u);
}

TEST_F(HttpHistoryTest, NeverWrittenKeyIs404) {
  auto r = api().Get("/v1/history/" + K("never"));
  EXPECT_EQ(r.status, 404) << r;
  EXPECT_EQ(r.ErrorCode(), "not_found");
}

// ---------------------------------------------------------------- events

class HttpEventsTest : public ServerTest {
 protected:
  ApiResponse Events(const std::string& query) { return api().Get("/v1/events?" + query); }
};

TEST_F(HttpEventsTest, OldestFirstAndFromRevisionIsExclusive) {
  const int64_t h0 = Head();
  auto w1 = api().Set(K("a"), "1");
  auto w2 = api().Set(K("b"), "2", {{"X-Actor", "alice"}});
  auto w3 = api().Set(K("a"), "3");
  auto r = Events("from_revision=" + std::to_string(h0));
  ASSERT_EQ(r.status, 200) << r;
  auto& ev = r.json["events"];
  ASSERT_EQ(ev.size(), 3u) << r;
  EXPECT_EQ(ev[0]["revision"], Rev(w1));
  EXPECT_EQ(ev[1]["revision"], Rev(w2));
  EXPECT_EQ(ev[2]["revision"], Rev(w3));
  EXPECT_EQ(ev[1]["actor"], "alice");
  EXPECT_EQ(ev[2]["previous_value"], 1);
  EXPECT_EQ(ev[2]["version"], 2);
  EXPECT_TRUE(IsTimestamp(ev[0].value("timestamp", ""))) << ev[0];
  EXPECT_EQ(r.json["next_from_revision"], Rev(w3));

  auto after1 = Events("from_revision=" + std::to_string(Rev(w1)));
  ASSERT_EQ(after1.status, 200) << after1;
  ASSERT_EQ(after1.json["events"].size(), 2u) << after1;
  EXPECT_EQ(after1.json["events"][0]["revision"], Rev(w2));
}

TEST_F(HttpEventsTest, DefaultFromRevisionIsTheBeginning) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  auto r = Events("limit=1");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_GE(r.json["events"].size(), 1u);
  EXPECT_EQ(r.json["events"][0]["revision"], 1);
}

TEST_F(HttpEventsTest, LimitAndNextFromRevision) {
  const int64_t h0 = Head();
  std::vector<int64_t> revs;
  for (int i = 0; i < 5; ++i) {
    auto w = api().Set(K("k" + std::to_string(i)), "1");
    ASSERT_EQ(w.status, 201) << w;
    revs.push_back(Rev(w));
  }
  auto r = Events("limit=2&from_revision=" + std::to_string(h0));
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.json["events"].size(), 2u) << r;
  EXPECT_EQ(r.json["next_from_revision"], revs[1]);
  auto all = api().Events(h0, {}, 2);
  std::vector<int64_t> seen;
  for (auto& e : all) seen.push_back(e["revision"].get<int64_t>());
  EXPECT_EQ(seen, revs);
}

TEST_F(HttpEventsTest, APageNeverSplitsACommit) {
  const int64_t h0 = Head();
  json ops = json::array();
  for (int i = 0; i < 5; ++i) {
    ops.push_back({{"op", "set"}, {"key", K("t" + std::to_string(i))}, {"value", i}});
  }
  auto t = api().Post("/v1/txn", json{{"ops", ops}}.dump());
  ASSERT_EQ(t.status, 200) << t;
  const int64_t rev = Rev(t);
  auto r = Events("limit=2&from_revision=" + std::to_string(h0));
  ASSERT_EQ(r.status, 200) << r;
  auto& ev = r.json["events"];
  ASSERT_EQ(ev.size(), 5u) << "one commit alone larger than limit comes whole: " << r;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ev[i]["revision"], rev);
    EXPECT_EQ(ev[i]["index"], i);
  }
  EXPECT_EQ(r.json["next_from_revision"], rev);

  // Pages over several commits end at commit boundaries.
  ASSERT_EQ(api().Set(K("single"), "1").status, 201);
  for (auto& op : ops) op["value"] = op["value"].get<int>() + 10;
  ASSERT_EQ(api().Post("/v1/txn", json{{"ops", ops}}.dump()).status, 200);
  auto t3 = api().Post("/v1/txn", R"({"ops":[{"op":"set","key":")" + K("u1") +
                                      R"(","value":1},{"op":"set","key":")" + K("u2") +
                                      R"(","value":2},{"op":"set","key":")" + K("u3") +
                                      R"(","value":3}]})");
  ASSERT_EQ(t3.status, 200) << t3;
  std::map<int64_t, size_t> full;  // revision -> events in the commit
  for (auto& e : api().Events(h0)) ++full[e["revision"].get<int64_t>()];
  for (int limit : {1, 2, 3, 4}) {
    int64_t from = h0;
    for (int page = 0; page < 50; ++page) {
      auto p = Events("limit=" + std::to_string(limit) + "&from_revision=" + std::to_string(from));
      ASSERT_EQ(p.status, 200) << p;
      if (p.json["events"].empty()) break;
      std::map<int64_t, size_t> counts;
      for (auto& e : p.json["events"]) ++counts[e["revision"].get<int64_t>()];
      for (auto [rv, n] : counts) {
        EXPECT_EQ(n, full[rv]) << "limit " << limit << " split commit " << rv;
      }
      from = p.json["next_from_revision"].get<int64_t>();
      EXPECT_EQ(from, counts.rbegin()->first);
    }
  }
}

TEST_F(HttpEventsTest, LimitAbove10000IsRejected) {
  auto r = Events("limit=10001");
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "invalid_request");
}

TEST_F(HttpEventsTest, FilterByPrefix) {
  const int64_t h0 = Head();
  ASSERT_EQ(api().Set(K("p/a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("q/b"), "2").status, 201);
  ASSERT_EQ(api().Set(K("p/c"), "3").status, 201);
  auto t = api().Post("/v1/txn", R"({"ops":[{"op":"set","key":")" + K("q/x") +
                                     R"(","value":1},{"op":"set","key":")" + K("p/y") +
                                     R"(","value":2}]})");
  ASSERT_EQ(t.status, 200) << t;
  auto ev = api().Events(h0, "prefix=" + Q(K("p/")));
  std::vector<std::string> keys;
  for (auto& e : ev) keys.push_back(e["key"].get<std::string>());
  EXPECT_EQ(keys, (std::vector<std::string>{K("p/a"), K("p/c"), K("p/y")}));
  auto paged = api().Events(h0, "prefix=" + Q(K("p/")), 1);
  EXPECT_EQ(paged.size(), 3u);
}

TEST_F(HttpEventsTest, FilterByActor) {
  const int64_t h0 = Head();
  ASSERT_EQ(api().Set(K("a"), "1", {{"X-Actor", "alice"}}).status, 201);
  ASSERT_EQ(api().Set(K("b"), "1", {{"X-Actor", "bob"}}).status, 201);
  ASSERT_EQ(api().Set(K("c"), "1", {{"X-Actor", "alice"}}).status, 201);
  ASSERT_EQ(api().Set(K("d"), "1").status, 201);
  auto ev = api().Events(h0, "actor=alice");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["key"], K("a"));
  EXPECT_EQ(ev[1]["key"], K("c"));
  auto anon = api().Events(h0, "actor=anonymous");
  ASSERT_EQ(anon.size(), 1u);
  EXPECT_EQ(anon[0]["key"], K("d"));
}

// The actor's own commits, paged, with exact bounds; exact times on the
// commits themselves (since and until are inclusive, times never go back).
TEST_F(HttpEventsTest, ActorPagesAndInclusiveTimeBounds) {
  const int64_t h0 = Head();
  std::vector<int64_t> carols;
  for (int i = 0; i < 7; ++i) {
    auto r = api().Set(K("k" + std::to_string(i)), "1",
                       {{"X-Actor", i % 2 ? "carol-" + prefix() : "dave"}});
    ASSERT_EQ(r.status, 201) << r;
    if (i % 2) carols.push_back(r.json["revision"].get<int64_t>());
  }
  const std::string actor = "actor=" + Q("carol-" + prefix());
  auto page = api().Get("/v1/events?limit=2&from_revision=" + std::to_string(h0) + "&" + actor);
  ASSERT_EQ(page.status, 200) << page;
  ASSERT_EQ(page.json["events"].size(), 2u);
  EXPECT_EQ(page.json["events"][1]["revision"], carols[1]);
  EXPECT_EQ(page.json["next_from_revision"], carols[1]);
  auto rest = api().Get("/v1/events?from_revision=" + std::to_string(carols[1]) + "&" + actor);
  ASSERT_EQ(rest.json["events"].size(), 1u) << rest;
  EXPECT_EQ(rest.json["events"][0]["revision"], carols[2]);
  EXPECT_EQ(rest.json["next_from_revision"], Head()) << "nothing more up to the head";
  EXPECT_EQ(api().Events(h0, "actor=nobody-at-all").size(), 0u);

  // A commit's own time as since and until selects it.
  auto one = api().Get("/v1/revisions/" + std::to_string(carols[0]));
  const std::string t = one.json["timestamp"].get<std::string>();
  auto ev = api().Events(h0, "since=" + Q(t) + "&until=" + Q(t));
  ASSERT_GE(ev.size(), 1u);
  for (const auto& e : ev) EXPECT_EQ(e["timestamp"], t);
}

// A key's history shows its event of a big import with the event's index
// in that commit, without the rest of the commit.
TEST_F(HttpHistoryTest, AnEventOfABigImportKeepsItsIndex) {
  json values = json::object();
  for (int i = 0; i < 300; ++i) values[K("k" + std::to_string(1000 + i))] = i;
  auto imp = api().Post("/v1/import", json{{"values", values}}.dump());
  ASSERT_EQ(imp.status, 200) << imp;
  const int64_t rev = imp.json["revision"].get<int64_t>();
  auto commit = api().Get("/v1/revisions/" + std::to_string(rev));
  ASSERT_EQ(commit.status, 200);
  for (const auto& e : commit.json["events"]) {
    if (e["key"] != K("k1137")) continue;
    auto h = api().Get("/v1/history/" + K("k1137"));
    ASSERT_EQ(h.status, 200) << h;
    ASSERT_EQ(h.json["events"].size(), 1u);
    EXPECT_EQ(h.json["events"][0], e);
  }
}

TEST_F(HttpEventsTest, FilterBySinceAndUntil) {
  const int64_t h0 = Head();
  auto a = api().Set(K("a"), "1");
  std::this_thread::sleep_for(milliseconds(10));
  auto b = api().Set(K("b"), "2");
  std::this_thread::sleep_for(milliseconds(10));
  auto c = api().Set(K("c"), "3");
  ASSERT_EQ(c.status, 201) << c;
  const int64_t ta = TimeMicros(a.json["entry"]["modified_at"].get<std::string>());
  const int64_t tb = TimeMicros(b.json["entry"]["modified_at"].get<std::string>());
  const int64_t tc = TimeMicros(c.json["entry"]["modified_at"].get<std::string>());
  ASSERT_LT(ta + 2000, tb);
  ASSERT_LT(tb + 2000, tc);
  // Bounds strictly between the commits: inclusive or exclusive, only b fits.
  const std::string since = FormatMicros(ta + 1000);
  const std::string until = FormatMicros(tb + 1000);
  auto ev = api().Events(h0, "since=" + Q(since) + "&until=" + Q(until));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["key"], K("b"));
  auto from_b = api().Events(h0, "since=" + Q(since));
  EXPECT_EQ(from_b.size(), 2u);
  auto to_b = api().Events(h0, "until=" + Q(until));
  EXPECT_EQ(to_b.size(), 2u);
}

// ---------------------------------------------------------------- revisions

class HttpRevisionsTest : public ServerTest {};

TEST_F(HttpRevisionsTest, CommitShape) {
  auto w = api().Put("/v1/kv/" + K("a"), R"({"value":{"n":1.50},"reason":"because"})",
                     {{"X-Actor", "alice"}, {"X-Request-Id", "rid-7"}});
  ASSERT_EQ(w.status, 201) << w;
  const int64_t rev = Rev(w);
  auto r = api().Get("/v1/revisions/" + std::to_string(rev));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], rev);
  EXPECT_TRUE(IsTimestamp(r.json.value("timestamp", ""))) << r;
  EXPECT_EQ(r.json["timestamp"], w.json["entry"]["modified_at"]);
  EXPECT_EQ(r.json["actor"], "alice");
  EXPECT_EQ(r.json["reason"], "because");
  EXPECT_EQ(r.json["request_id"], "rid-7");
  EXPECT_TRUE(IsLowerHex64(r.json.value("hash", ""))) << r;
  EXPECT_TRUE(IsLowerHex64(r.json.value("prev_hash", ""))) << r;
  ASSERT_EQ(r.json["events"].size(), 1u);
  auto& e = r.json["events"][0];
  EXPECT_EQ(e["revision"], rev);
  EXPECT_EQ(e["index"], 0);
  EXPECT_EQ(e["type"], "ConfigSet");
  EXPECT_EQ(e["key"], K("a"));
  EXPECT_EQ(e["version"], 1);
  EXPECT_EQ(RawAt(r.body, "events.0.value"), R"({"n":1.50})");
}

TEST_F(HttpRevisionsTest, ZeroIsNotFoundAndAboveHeadIsFuture) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  auto zero = api().Get("/v1/revisions/0");
  EXPECT_EQ(zero.status, 404) << zero;
  EXPECT_EQ(zero.ErrorCode(), "not_found");
  auto future = api().Get("/v1/revisions/" + std::to_string(Head() + 1));
  EXPECT_EQ(future.status, 400) << future;
  EXPECT_EQ(future.ErrorCode(), "future_revision");
  auto head = api().Get("/v1/revisions/" + std::to_string(Head()));
  EXPECT_EQ(head.status, 200) << head;
}

TEST_F(HttpRevisionsTest, RevisionOneChainsFromZeros) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  auto r = api().Get("/v1/revisions/1");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["prev_hash"], std::string(64, '0'));
}

TEST_F(HttpRevisionsTest, HashChainLinksAndRecomputes) {
  // A variety of commits: escapes in reason, actor and values, deletes, a txn,
  // no reason at all.
  ASSERT_EQ(api()
                .Put("/v1/kv/" + K("a"),
                     R"({"value":{"s":"caf\u00e9 \"q\" \\ \n","n":1.50,"big":12345678901234567890},)"
                     R"("reason":"line1\nline2\ttab \"quoted\" back\\slash \u0001 caf\u00e9"})",
                     {{"X-Actor", "o'brien"}, {"X-Request-Id", "r\"1"}})
                .status,
            201);
  ASSERT_EQ(api().Set(K("a"), "null").status, 200);
  ASSERT_EQ(api().Set(K("b"), "[1, 2 ,3]").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("a") + "?reason=" + Q("gone")).status, 200);
  ASSERT_EQ(api()
                .Post("/v1/txn",
                      R"({"ops":[{"op":"set","key":")" + K("c") + R"(","value":"x"},)"
                      R"({"op":"delete","key":")" + K("b") + R"("}],"reason":"txn"})")
                .status,
            200);
  const int64_t head = Head();
  std::string prev = std::string(64, '0');
  for (int64_t rev = 1; rev <= head; ++rev) {
    auto r = api().Get("/v1/revisions/" + std::to_string(rev));
    ASSERT_EQ(r.status, 200) << rev << ": " << r;
    const std::string hash = r.json.value("hash", "");
    const std::string prev_hash = r.json.value("prev_hash", "");
    EXPECT_TRUE(IsLowerHex64(hash)) << rev;
    EXPECT_EQ(prev_hash, prev) << "revision " << rev << " does not chain to " << rev - 1;
    const std::string bytes = CommitBytes(r.body);
    EXPECT_EQ(ChainHash(prev_hash, bytes), hash)
        << "revision " << rev << " hash does not recompute from\n" << bytes;
    prev = hash;
  }
  auto status = api().Get("/v1/status");
  ASSERT_EQ(status.status, 200) << status;
  EXPECT_EQ(status.json["head_hash"], prev);
}

TEST_F(HttpRevisionsTest, EventsRunGapFreeFromOne) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "1").status, 201);
  const int64_t head = Head();
  std::set<int64_t> revs;
  for (auto& e : api().Events(0)) revs.insert(e["revision"].get<int64_t>());
  ASSERT_EQ(static_cast<int64_t>(revs.size()), head);
  EXPECT_EQ(*revs.begin(), 1);
  EXPECT_EQ(*revs.rbegin(), head);
}

}  // namespace
}  // namespace chronoconf::test
