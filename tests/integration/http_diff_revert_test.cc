// SPEC §2.3 GET /v1/diff and POST /v1/revert.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

int64_t Rev(ApiResponse& r) { return r.json["revision"].get<int64_t>(); }

std::vector<std::string> KeysOf(json& entries) {
  std::vector<std::string> keys;
  for (auto& e : entries) keys.push_back(e["key"].get<std::string>());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// ---------------------------------------------------------------- diff

class HttpDiffTest : public ServerTest {};

TEST_F(HttpDiffTest, AddedRemovedChanged) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "2").status, 201);
  ASSERT_EQ(api().Set(K("c"), "3").status, 201);
  const int64_t from = Head();
  ASSERT_EQ(api().Set(K("a"), "10").status, 200);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("b")).status, 200);
  ASSERT_EQ(api().Set(K("d"), R"({"x":1.50})").status, 201);
  const int64_t to = Head();

  auto r = api().Get("/v1/diff?from_revision=" + std::to_string(from) +
                     "&to_revision=" + std::to_string(to) + "&prefix=" + Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["from"], from);
  EXPECT_EQ(r.json["to"], to);
  ASSERT_EQ(r.json["added"].size(), 1u) << r;
  EXPECT_EQ(r.json["added"][0]["key"], K("d"));
  EXPECT_EQ(RawAt(r.body, "added.0.value"), R"({"x":1.50})");
  EXPECT_EQ(r.json["added"][0]["version"], 1);
  ASSERT_EQ(r.json["removed"].size(), 1u) << r;
  EXPECT_EQ(r.json["removed"][0]["key"], K("b"));
  EXPECT_EQ(r.json["removed"][0]["value"], 2);
  ASSERT_EQ(r.json["changed"].size(), 1u) << r;
  auto& ch = r.json["changed"][0];
  EXPECT_EQ(ch["key"], K("a"));
  EXPECT_EQ(ch["before"]["value"], 1);
  EXPECT_EQ(ch["before"]["version"], 1);
  EXPECT_EQ(ch["after"]["value"], 10);
  EXPECT_EQ(ch["after"]["version"], 2);
}

TEST_F(HttpDiffTest, DefaultsAreFromEmptyToHead) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "2").status, 201);
  ASSERT_EQ(api().Set(K("gone"), "2").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("gone")).status, 200);
  const int64_t head = Head();
  auto r = api().Get("/v1/diff?prefix=" + Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["from"], 0);
  EXPECT_EQ(r.json["to"], head);
  EXPECT_EQ(KeysOf(r.json["added"]), (std::vector<std::string>{K("a"), K("b")}));
  EXPECT_TRUE(r.json["removed"].empty()) << r;
  EXPECT_TRUE(r.json["changed"].empty()) << r;
}

TEST_F(HttpDiffTest, PrefixLimitsTheDiff) {
  const int64_t from = Head();
  ASSERT_EQ(api().Set(K("in/a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("out/b"), "1").status, 201);
  auto r = api().Get("/v1/diff?from_revision=" + std::to_string(from) + "&prefix=" +
                     Q(K("in/")));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(KeysOf(r.json["added"]), std::vector<std::string>{K("in/a")});
}

TEST_F(HttpDiffTest, FromTimeToTime) {
  auto w1 = api().Set(K("a"), "1");
  std::this_thread::sleep_for(milliseconds(5));
  auto w2 = api().Set(K("a"), "2");
  std::this_thread::sleep_for(milliseconds(5));
  auto w3 = api().Set(K("b"), "3");
  ASSERT_EQ(w3.status, 201) << w3;
  const std::string t1 = w1.json["entry"]["modified_at"].get<std::string>();
  const std::string t2 = w2.json["entry"]["modified_at"].get<std::string>();
  auto r = api().Get("/v1/diff?from_time=" + Q(t1) + "&to_time=" + Q(t2) + "&prefix=" +
                     Q(prefix()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["from"], Rev(w1));
  EXPECT_EQ(r.json["to"], Rev(w2));
  EXPECT_TRUE(r.json["added"].empty()) << r;
  ASSERT_EQ(r.json["changed"].size(), 1u) << r;
  EXPECT_EQ(r.json["changed"][0]["after"]["value"], 2);
}

TEST_F(HttpDiffTest, FutureRevisionIsRejected) {
  auto r = api().Get("/v1/diff?to_revision=" + std::to_string(Head() + 5));
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "future_revision");
}

// ---------------------------------------------------------------- revert

class HttpRevertTest : public ServerTest {
 protected:
  ApiResponse Revert(const json& body) { return api().Post("/v1/revert", body.dump()); }
};

TEST_F(HttpRevertTest, RevertsAPrefix) {
  ASSERT_EQ(api().Set(K("cfg/a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("cfg/b"), R"({"keep":1.50})").status, 201);
  ASSERT_EQ(api().Set(K("cfg/c"), "3").status, 201);
  ASSERT_EQ(api().Set(K("other/x"), "1").status, 201);
  const int64_t target = Head();
  ASSERT_EQ(api().Set(K("cfg/a"), "10").status, 200);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("cfg/b")).status, 200);
  ASSERT_EQ(api().Set(K("cfg/d"), "4").status, 201);
  ASSERT_EQ(api().Set(K("other/x"), "2").status, 200);
  const int64_t head = Head();

  auto r = api().Post("/v1/revert",
                      json{{"to_revision", target}, {"prefix", K("cfg/")}, {"reason", "undo"}}
                          .dump(),
                      {{"X-Actor", "ops"}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["changed"], true);
  EXPECT_EQ(r.json["events"], 3);
  EXPECT_EQ(Head(), head + 1);

  auto a = api().GetKey(K("cfg/a"));
  EXPECT_EQ(a.json["value"], 1);
  EXPECT_EQ(a.json["version"], 3);
  auto b = api().GetKey(K("cfg/b"));
  ASSERT_EQ(b.status, 200) << "deleted key restored: " << b;
  EXPECT_EQ(RawAt(b.body, "value"), R"({"keep":1.50})");
  EXPECT_EQ(b.json["version"], 3);
  EXPECT_EQ(b.json["created_revision"], head + 1);
  EXPECT_EQ(api().GetKey(K("cfg/c")).json["version"], 1) << "untouched key unchanged";
  EXPECT_EQ(api().GetKey(K("cfg/d")).status, 404) << "key created since is deleted";
  EXPECT_EQ(api().GetKey(K("other/x")).json["value"], 2) << "outside the prefix";

  auto rev = api().Get("/v1/revisions/" + std::to_string(head + 1));
  ASSERT_EQ(rev.status, 200) << rev;
  EXPECT_EQ(rev.json["reason"], "undo");
  EXPECT_EQ(rev.json["actor"], "ops");
  EXPECT_EQ(rev.json["events"].size(), 3u);

  auto diff = api().Get("/v1/diff?from_revision=" + std::to_string(target) + "&prefix=" +
                        Q(K("cfg/")));
  ASSERT_EQ(diff.status, 200) << diff;
  EXPECT_TRUE(diff.json["added"].empty() && diff.json["removed"].empty()) << diff;
}

TEST_F(HttpRevertTest, RevertWithNothingToDoIsANoOp) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t target = Head();
  ASSERT_EQ(api().Set(K("a"), "2").status, 200);
  auto first = Revert({{"to_revision", target}, {"prefix", prefix()}});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.json["changed"], true);
  EXPECT_EQ(first.json["events"], 1);
  const int64_t head = Head();
  auto again = Revert({{"to_revision", target}, {"prefix", prefix()}});
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json["changed"], false);
  EXPECT_EQ(again.json["revision"], head);
  EXPECT_EQ(again.json["events"], 0);
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpRevertTest, FutureRevisionIsRejected) {
  const int64_t head = Head();
  auto r = Revert({{"to_revision", head + 10}, {"prefix", prefix()}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "future_revision");
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpRevertTest, MalformedBodyIsInvalidRequest) {
  for (const json& body : {json::object(), json{{"to_revision", "3"}},
                           json{{"to_revision", 1}, {"prefix", 5}}}) {
    auto r = Revert(body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_request") << body.dump();
  }
}

// A whole-config revert needs a server of its own.
class HttpRevertAllTest : public ServerTest {};

TEST_F(HttpRevertAllTest, RevertsTheWholeConfig) {
  ASSERT_EQ(api().Set("a", "1").status, 201);
  ASSERT_EQ(api().Set("b/c", "2").status, 201);
  const int64_t target = Head();
  ASSERT_EQ(api().Set("c", "3").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/a").status, 200);
  ASSERT_EQ(api().Set("b/c", "4").status, 200);
  auto r = api().Post("/v1/revert", json{{"to_revision", target}}.dump());
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["events"], 3);
  auto list = api().Get("/v1/kv");
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.json["entries"].size(), 2u) << list;
  EXPECT_EQ(list.json["entries"][0]["key"], "a");
  EXPECT_EQ(list.json["entries"][0]["value"], 1);
  EXPECT_EQ(list.json["entries"][1]["key"], "b/c");
  EXPECT_EQ(list.json["entries"][1]["value"], 2);

  // Revision 0 is the empty config.
  auto empty = api().Post("/v1/revert", json{{"to_revision", 0}}.dump());
  ASSERT_EQ(empty.status, 200) << empty;
  EXPECT_EQ(empty.json["events"], 2);
  auto none = api().Get("/v1/kv");
  EXPECT_TRUE(none.json["entries"].empty()) << none;
}

}  // namespace
}  // namespace chronoconf::test
