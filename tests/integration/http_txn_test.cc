// SPEC §2.2 POST /v1/txn: all or nothing, one revision.
#include <string>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpTxnTest : public ServerTest {
 protected:
  ApiResponse Txn(const json& body, const Headers& headers = {}) {
    return api().Post("/v1/txn", body.dump(), headers);
  }
  // A set op; `value_text` is raw JSON text.
  static json SetOp(const std::string& key, const json& value) {
    return {{"op", "set"}, {"key", key}, {"value", value}};
  }
  void ExpectUnchanged(int64_t head, std::initializer_list<std::string> absent_keys) {
    EXPECT_EQ(Head(), head) << "a failed transaction must write nothing";
    for (const auto& k : absent_keys) {
      EXPECT_EQ(api().GetKey(k).status, 404) << k << " must not have been written";
    }
  }
};

TEST_F(HttpTxnTest, AppliesEveryOpInOneRevision) {
  const int64_t head = Head();
  const std::string body = R"({"ops":[{"op":"set","key":")" + K("a") +
                           R"(","value":1},{"op":"set","key":")" + K("b") +
                           R"(","value":{"x":1.50}},{"op":"set","key":")" + K("c") +
                           R"(","value":true}],"reason":"bulk change"})";
  auto r = api().Post("/v1/txn", body, {{"X-Actor", "ops"}, {"X-Request-Id", "txn-1"}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["changed"], true);
  auto& results = r.json["results"];
  ASSERT_EQ(results.size(), 3u) << r;
  EXPECT_EQ(results[0]["key"], K("a"));
  EXPECT_EQ(results[1]["key"], K("b"));
  EXPECT_EQ(results[2]["key"], K("c"));
  for (auto& res : results) {
    EXPECT_EQ(res["changed"], true);
    EXPECT_EQ(res["entry"]["version"], 1);
    EXPECT_EQ(res["entry"]["modified_revision"], head + 1);
    EXPECT_EQ(res["entry"]["created_revision"], head + 1);
    EXPECT_EQ(res["entry"]["modified_by"], "ops");
  }
  EXPECT_EQ(RawAt(r.body, "results.1.entry.value"), R"({"x":1.50})");
  EXPECT_EQ(Head(), head + 1);

  auto rev = api().Get("/v1/revisions/" + std::to_string(head + 1));
  ASSERT_EQ(rev.status, 200) << rev;
  auto& ev = rev.json["events"];
  ASSERT_EQ(ev.size(), 3u) << rev;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ev[i]["index"], i);
    EXPECT_EQ(ev[i]["revision"], head + 1);
    EXPECT_EQ(ev[i]["type"], "ConfigSet");
  }
  EXPECT_EQ(ev[0]["key"], K("a"));
  EXPECT_EQ(ev[2]["key"], K("c"));
  auto h = api().Get("/v1/history/" + K("c"));
  ASSERT_EQ(h.status, 200) << h;
  EXPECT_EQ(h.json["events"][0]["index"], 2);
  EXPECT_EQ(h.json["events"][0]["reason"], "bulk change");
  EXPECT_EQ(rev.json["reason"], "bulk change");
  EXPECT_EQ(rev.json["request_id"], "txn-1");
  EXPECT_EQ(rev.json["actor"], "ops");
}

TEST_F(HttpTxnTest, MixesSetDeleteCheckAndAbsent) {
  for (const char* k : {"a", "b", "c"}) ASSERT_EQ(api().Set(K(k), "1").status, 201);
  const int64_t head = Head();
  json body = {{"ops",
                {{{"op", "check"}, {"key", K("a")}, {"expected_version", 1}},
                 {{"op", "set"}, {"key", K("b")}, {"value", 20}, {"expected_version", 1}},
                 {{"op", "delete"}, {"key", K("c")}, {"expected_version", 1}},
                 {{"op", "set"}, {"key", K("d")}, {"value", 4}, {"absent", true}}}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["changed"], true);
  ASSERT_EQ(r.json["results"].size(), 4u) << r;
  EXPECT_EQ(r.json["results"][0]["changed"], false) << "a check changes nothing";
  EXPECT_EQ(r.json["results"][1]["changed"], true);
  EXPECT_EQ(r.json["results"][2]["changed"], true);
  EXPECT_EQ(r.json["results"][3]["changed"], true);
  EXPECT_EQ(Head(), head + 1);

  auto rev = api().Get("/v1/revisions/" + std::to_string(head + 1));
  ASSERT_EQ(rev.status, 200) << rev;
  EXPECT_EQ(rev.json["events"].size(), 3u) << "the check op makes no event: " << rev;

  auto a = api().GetKey(K("a"));
  EXPECT_EQ(a.json["version"], 1);
  auto b = api().GetKey(K("b"));
  EXPECT_EQ(b.json["value"], 20);
  EXPECT_EQ(b.json["version"], 2);
  EXPECT_EQ(api().GetKey(K("c")).status, 404);
  auto d = api().GetKey(K("d"));
  EXPECT_EQ(d.json["value"], 4);
  EXPECT_EQ(d.json["version"], 1);
}

TEST_F(HttpTxnTest, FailingExpectationIs409WithOpIndex) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  json body = {{"ops",
                {SetOp(K("x"), 1),
                 {{"op", "set"}, {"key", K("a")}, {"value", 2}, {"expected_version", 5}}}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 409) << r;
  EXPECT_EQ(r.ErrorCode(), "version_conflict");
  EXPECT_EQ(r.json["error"]["op_index"], 1);
  EXPECT_EQ(r.json["error"]["key"], K("a"));
  EXPECT_EQ(r.json["error"]["expected_version"], 5);
  EXPECT_EQ(r.json["error"]["current_version"], 1);
  ExpectUnchanged(head, {K("x")});
  EXPECT_EQ(api().GetKey(K("a")).json["value"], 1);
}

TEST_F(HttpTxnTest, StaleExpectationFailsEvenWhenValueUnchanged) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("a"), "2").status, 200);
  const int64_t head = Head();
  json body = {
      {"ops", {{{"op", "set"}, {"key", K("a")}, {"value", 2}, {"expected_version", 1}}}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 409) << r;
  EXPECT_EQ(r.json["error"]["op_index"], 0);
  ExpectUnchanged(head, {});
}

TEST_F(HttpTxnTest, AbsentOnExistingKeyIs409) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  json body = {{"ops",
                {SetOp(K("new"), 1), SetOp(K("new2"), 2),
                 {{"op", "set"}, {"key", K("a")}, {"value", 3}, {"absent", true}}}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 409) << r;
  EXPECT_EQ(r.ErrorCode(), "version_conflict");
  EXPECT_EQ(r.json["error"]["op_index"], 2);
  EXPECT_EQ(r.json["error"]["key"], K("a"));
  ExpectUnchanged(head, {K("new"), K("new2")});
}

TEST_F(HttpTxnTest, FailingCheckIs409) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  json body = {{"ops",
                {{{"op", "check"}, {"key", K("a")}, {"expected_version", 2}},
                 SetOp(K("b"), 1)}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 409) << r;
  EXPECT_EQ(r.json["error"]["op_index"], 0);
  EXPECT_EQ(r.json["error"]["expected_version"], 2);
  EXPECT_EQ(r.json["error"]["current_version"], 1);
  ExpectUnchanged(head, {K("b")});
}

TEST_F(HttpTxnTest, CheckOfNeverWrittenKeyWithVersionZeroPasses) {
  json body = {{"ops",
                {{{"op", "check"}, {"key", K("ghost")}, {"expected_version", 0}},
                 SetOp(K("b"), 1)}}};
  auto r = Txn(body);
  EXPECT_EQ(r.status, 200) << r;
}

TEST_F(HttpTxnTest, DeletingAMissingKeyIs404WithOpIndex) {
  const int64_t head = Head();
  json body = {{"ops",
                {SetOp(K("y"), 1), SetOp(K("z"), 2),
                 {{"op", "delete"}, {"key", K("missing")}}}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 404) << r;
  EXPECT_EQ(r.ErrorCode(), "not_found");
  EXPECT_EQ(r.json["error"]["op_index"], 2);
  ExpectUnchanged(head, {K("y"), K("z")});
}

TEST_F(HttpTxnTest, KeyNamedTwiceIsInvalidRequest) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  json body = {{"ops", {SetOp(K("b"), 1), SetOp(K("a"), 2), {{"op", "delete"}, {"key", K("a")}}}}};
  auto r = Txn(body);
  ASSERT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "invalid_request");
  ExpectUnchanged(head, {K("b")});
}

TEST_F(HttpTxnTest, AtMost1000Ops) {
  const int64_t head = Head();
  json ops = json::array();
  for (int i = 0; i < 1001; ++i) ops.push_back(SetOp(K("k" + std::to_string(i)), i));
  auto over = Txn({{"ops", ops}});
  ASSERT_EQ(over.status, 413) << over;
  EXPECT_EQ(over.ErrorCode(), "too_large");
  ExpectUnchanged(head, {K("k0"), K("k1000")});

  ops.erase(ops.end() - 1);
  auto ok = Txn({{"ops", ops}});
  ASSERT_EQ(ok.status, 200) << ok;
  EXPECT_EQ(ok.json["revision"], head + 1);
  EXPECT_EQ(ok.json["results"].size(), 1000u);
  EXPECT_EQ(Head(), head + 1);
  auto rev = api().Get("/v1/revisions/" + std::to_string(head + 1));
  ASSERT_EQ(rev.status, 200);
  EXPECT_EQ(rev.json["events"].size(), 1000u);
  EXPECT_EQ(rev.json["events"][999]["index"], 999);
}

TEST_F(HttpTxnTest, AllNoOpsCommitNothing) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), R"({"x":[1,2]})").status, 201);
  const int64_t head = Head();
  auto r = api().Post("/v1/txn", R"({"ops":[{"op":"set","key":")" + K("a") +
                                      R"(","value":1},{"op":"set","key":")" + K("b") +
                                      R"(","value":{ "x" : [ 1 , 2 ] }}]})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["changed"], false);
  EXPECT_EQ(r.json["revision"], head);
  EXPECT_EQ(r.json["results"][0]["changed"], false);
  EXPECT_EQ(r.json["results"][1]["changed"], false);
  EXPECT_EQ(r.json["results"][1]["entry"]["version"], 1);
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpTxnTest, PartialNoOpCommitsOnlyTheChanges) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  auto r = Txn({{"ops", {SetOp(K("a"), 1), SetOp(K("b"), 2)}}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["changed"], true);
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["results"][0]["changed"], false);
  EXPECT_EQ(r.json["results"][1]["changed"], true);
  auto rev = api().Get("/v1/revisions/" + std::to_string(head + 1));
  ASSERT_EQ(rev.status, 200) << rev;
  ASSERT_EQ(rev.json["events"].size(), 1u) << rev;
  EXPECT_EQ(rev.json["events"][0]["key"], K("b"));
  EXPECT_EQ(rev.json["events"][0]["index"], 0);
  EXPECT_EQ(api().GetKey(K("a")).json["version"], 1);
}

TEST_F(HttpTxnTest, MalformedOpsAreInvalidRequest) {
  const int64_t head = Head();
  const std::vector<json> bodies = {
      json::object(),
      {{"ops", "nope"}},
      {{"ops", {{{"op", "frobnicate"}, {"key", K("a")}}}}},
      {{"ops", {{{"op", "set"}, {"key", K("a")}}}}},                        // no value
      {{"ops", {{{"op", "check"}, {"key", K("a")}}}}},                      // no expected_version
      {{"ops", {{{"op", "delete"}}}}},                                      // no key
      {{"ops", {{{"key", K("a")}, {"value", 1}}}}},                         // no op
      {{"ops", {{{"op", "set"}, {"key", 7}, {"value", 1}}}}},               // key not a string
      {{"ops", {{{"op", "set"}, {"key", K("a")}, {"value", 1}, {"expected_version", "1"}}}}},
      {{"ops", {{{"op", "set"}, {"key", K("a")}, {"value", 1}, {"absent", "yes"}}}}},
      {{"ops", {SetOp(K("a"), 1)}}, {"reason", 12}},
  };
  for (const auto& body : bodies) {
    auto r = Txn(body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_request") << body.dump();
  }
  ExpectUnchanged(head, {K("a")});
}

TEST_F(HttpTxnTest, InvalidKeyInAnOpIsInvalidKey) {
  const int64_t head = Head();
  auto r = Txn({{"ops", {SetOp(K("ok"), 1), SetOp(K("bad\x01key"), 2)}}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.ErrorCode(), "invalid_key");
  ExpectUnchanged(head, {K("ok")});
}

TEST_F(HttpTxnTest, GarbageIsInvalidJson) {
  const int64_t head = Head();
  for (const char* body : {"{\"ops\":[", "ops", "{\"ops\":[]} trailing"}) {
    auto r = api().Post("/v1/txn", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_json") << body;
  }
  EXPECT_EQ(Head(), head);
}

}  // namespace
}  // namespace chronoconf::test
