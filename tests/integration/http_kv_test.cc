// SPEC §1, §2.1, §2.2: PUT/GET/DELETE /v1/kv/{key} against a real server.
#include <string>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpKvTest : public ServerTest {};

std::string Etag(int64_t version) { return "\"" + std::to_string(version) + "\""; }

TEST_F(HttpKvTest, CreateReturns201WithFullEntry) {
  const int64_t head = Head();
  auto r = api().Set(K("timeout_ms"), "1500", {{"X-Actor", "alice"}});
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["changed"], true);
  auto& e = r.json["entry"];
  EXPECT_EQ(e["key"], K("timeout_ms"));
  EXPECT_EQ(e["value"], 1500);
  EXPECT_EQ(e["version"], 1);
  EXPECT_EQ(e["created_revision"], head + 1);
  EXPECT_EQ(e["modified_revision"], head + 1);
  ASSERT_TRUE(e["modified_at"].is_string()) << r;
  EXPECT_TRUE(IsTimestamp(e["modified_at"].get<std::string>())) << e["modified_at"];
  EXPECT_EQ(e["modified_by"], "alice");
  EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u) << r.Header("content-type");
  EXPECT_GE(r.RevisionHeader(), 0) << "X-Chronoconf-Revision missing";
  EXPECT_EQ(Head(), head + 1);
}

TEST_F(HttpKvTest, UpdateReturns200AndBumpsVersion) {
  auto r1 = api().Set(K("a"), "1");
  ASSERT_EQ(r1.status, 201) << r1;
  const int64_t rev1 = r1.json["revision"].get<int64_t>();
  auto r2 = api().Set(K("a"), "2");
  ASSERT_EQ(r2.status, 200) << r2;
  EXPECT_EQ(r2.json["revision"], rev1 + 1);
  EXPECT_EQ(r2.json["changed"], true);
  EXPECT_EQ(r2.json["entry"]["value"], 2);
  EXPECT_EQ(r2.json["entry"]["version"], 2);
  EXPECT_EQ(r2.json["entry"]["created_revision"], rev1);
  EXPECT_EQ(r2.json["entry"]["modified_revision"], rev1 + 1);
}

TEST_F(HttpKvTest, GetReturnsEntryWithEtagAndRevisionHeader) {
  ASSERT_EQ(api().Set(K("g"), "\"x\"").status, 201);
  ASSERT_EQ(api().Set(K("g"), "\"y\"", {{"X-Actor", "bob"}}).status, 200);
  const int64_t head = Head();
  auto r = api().GetKey(K("g"));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["key"], K("g"));
  EXPECT_EQ(r.json["value"], "y");
  EXPECT_EQ(r.json["version"], 2);
  EXPECT_EQ(r.json["modified_revision"], head);
  EXPECT_EQ(r.json["created_revision"], head - 1);
  EXPECT_EQ(r.json["modified_by"], "bob");
  EXPECT_TRUE(IsTimestamp(r.json.value("modified_at", ""))) << r;
  EXPECT_EQ(r.Header("etag"), Etag(2));
  EXPECT_EQ(r.RevisionHeader(), head);
}

TEST_F(HttpKvTest, ActorDefaultsToAnonymous) {
  auto r = api().Set(K("anon"), "true");
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["entry"]["modified_by"], "anonymous");
  auto h = api().Get("/v1/history/" + K("anon"));
  ASSERT_EQ(h.status, 200) << h;
  EXPECT_EQ(h.json["events"][0]["actor"], "anonymous");
}

TEST_F(HttpKvTest, SettingTheSameValueIsANoOp) {
  auto r1 = api().Set(K("same"), R"({"a":1,"b":[1,2]})");
  ASSERT_EQ(r1.status, 201) << r1;
  const int64_t head = Head();
  // Same value, sent with whitespace: the minified text is identical.
  auto r2 = api().Put("/v1/kv/" + K("same"), "{ \"value\" : { \"a\" : 1 ,\n \"b\" : [ 1 , 2 ] } }");
  ASSERT_EQ(r2.status, 200) << r2;
  EXPECT_EQ(r2.json["changed"], false);
  EXPECT_EQ(r2.json["revision"], head);
  EXPECT_EQ(r2.json["entry"]["version"], 1);
  EXPECT_EQ(r2.json["entry"]["modified_revision"], r1.json["revision"]);
  EXPECT_EQ(RawAt(r2.body, "entry.value"), R"({"a":1,"b":[1,2]})");
  EXPECT_EQ(Head(), head) << "a no-op must not commit";
  auto h = api().Get("/v1/history/" + K("same"));
  ASSERT_EQ(h.status, 200) << h;
  EXPECT_EQ(h.json["events"].size(), 1u) << h;
}

TEST_F(HttpKvTest, NoOpWithMatchingExpectedVersionIsStillANoOp) {
  ASSERT_EQ(api().Set(K("k"), "7").status, 201);
  const int64_t head = Head();
  auto r = api().Put("/v1/kv/" + K("k"), R"({"value":7,"expected_version":1})");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["changed"], false);
  EXPECT_EQ(r.json["revision"], head);
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpKvTest, StaleExpectedVersionConflictsEvenWhenValueUnchanged) {
  ASSERT_EQ(api().Set(K("c"), "1").status, 201);
  ASSERT_EQ(api().Set(K("c"), "2").status, 200);
  const int64_t head = Head();
  auto r = api().Put("/v1/kv/" + K("c"), R"({"value":2,"expected_version":1})");
  ASSERT_EQ(r.status, 409) << r;
  EXPECT_EQ(r.ErrorCode(), "version_conflict");
  auto& err = r.json["error"];
  EXPECT_EQ(err["key"], K("c"));
  EXPECT_EQ(err["expected_version"], 1);
  EXPECT_EQ(err["current_version"], 2);
  EXPECT_TRUE(err["message"].is_string() && !err["message"].get<std::string>().empty()) << r;
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpKvTest, ExpectedVersionInBody) {
  ASSERT_EQ(api().Set(K("ev"), "1").status, 201);
  auto ok = api().Put("/v1/kv/" + K("ev"), R"({"value":2,"expected_version":1})");
  ASSERT_EQ(ok.status, 200) << ok;
  EXPECT_EQ(ok.json["entry"]["version"], 2);
  const int64_t head = Head();
  auto stale = api().Put("/v1/kv/" + K("ev"), R"({"value":3,"expected_version":1})");
  ASSERT_EQ(stale.status, 409) << stale;
  EXPECT_EQ(stale.ErrorCode(), "version_conflict");
  EXPECT_EQ(stale.json["error"]["current_version"], 2);
  EXPECT_EQ(stale.json["error"]["expected_version"], 1);
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().GetKey(K("ev")).json["value"], 2);
}

TEST_F(HttpKvTest, ExpectedVersionZeroMeansNeverWritten) {
  auto r = api().Put("/v1/kv/" + K("z"), R"({"value":1,"expected_version":0})");
  ASSERT_EQ(r.status, 201) << r;
  auto again = api().Put("/v1/kv/" + K("z"), R"({"value":2,"expected_version":0})");
  ASSERT_EQ(again.status, 409) << again;
  EXPECT_EQ(again.json["error"]["current_version"], 1);
}

TEST_F(HttpKvTest, IfMatchHeaderIsExpectedVersion) {
  ASSERT_EQ(api().Set(K("im"), "1").status, 201);
  auto ok = api().Set(K("im"), "2", {{"If-Match", Etag(1)}});
  ASSERT_EQ(ok.status, 200) << ok;
  EXPECT_EQ(ok.json["entry"]["version"], 2);
  const int64_t head = Head();
  auto stale = api().Set(K("im"), "3", {{"If-Match", Etag(1)}});
  ASSERT_EQ(stale.status, 409) << stale;
  EXPECT_EQ(stale.ErrorCode(), "version_conflict");
  EXPECT_EQ(stale.json["error"]["key"], K("im"));
  EXPECT_EQ(stale.json["error"]["expected_version"], 1);
  EXPECT_EQ(stale.json["error"]["current_version"], 2);
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpKvTest, IfMatchWithEtagFromGetRoundTrips) {
  ASSERT_EQ(api().Set(K("etag"), "1").status, 201);
  auto g = api().GetKey(K("etag"));
  ASSERT_EQ(g.status, 200) << g;
  auto r = api().Set(K("etag"), "2", {{"If-Match", g.Header("etag")}});
  EXPECT_EQ(r.status, 200) << r;
}

TEST_F(HttpKvTest, IfNoneMatchStarRequiresAbsentKey) {
  auto created = api().Set(K("inm"), "1", {{"If-None-Match", "*"}});
  ASSERT_EQ(created.status, 201) << created;
  const int64_t head = Head();
  auto exists = api().Set(K("inm"), "2", {{"If-None-Match", "*"}});
  ASSERT_EQ(exists.status, 409) << exists;
  EXPECT_EQ(exists.ErrorCode(), "version_conflict");
  EXPECT_EQ(exists.json["error"]["key"], K("inm"));
  EXPECT_EQ(Head(), head);
  // Deleted keys do not currently exist.
  ASSERT_EQ(api().Delete("/v1/kv/" + K("inm")).status, 200);
  auto recreated = api().Set(K("inm"), "3", {{"If-None-Match", "*"}});
  EXPECT_EQ(recreated.status, 201) << recreated;
  EXPECT_EQ(recreated.json["entry"]["version"], 3);
}

TEST_F(HttpKvTest, DeleteReturnsTheEntryAsItWasBefore) {
  auto c = api().Set(K("d"), R"({"x":1.50})", {{"X-Actor", "carol"}});
  ASSERT_EQ(c.status, 201) << c;
  ASSERT_EQ(api().Set(K("d"), R"({"x":2.50})", {{"X-Actor", "carol"}}).status, 200);
  const int64_t head = Head();
  auto r = api().Delete("/v1/kv/" + K("d"), {{"X-Actor", "dave"}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json["revision"], head + 1);
  EXPECT_EQ(r.json["changed"], true);
  auto& e = r.json["entry"];
  EXPECT_EQ(e["key"], K("d"));
  EXPECT_EQ(RawAt(r.body, "entry.value"), R"({"x":2.50})");
  EXPECT_EQ(e["version"], 2);
  EXPECT_EQ(e["created_revision"], c.json["revision"]);
  EXPECT_EQ(e["modified_revision"], head);
  EXPECT_EQ(e["modified_by"], "carol");
  EXPECT_EQ(Head(), head + 1);

  auto g = api().GetKey(K("d"));
  EXPECT_EQ(g.status, 404) << g;
  EXPECT_EQ(g.ErrorCode(), "not_found");
}

TEST_F(HttpKvTest, DeleteMissingKeyIs404AndWritesNothing) {
  const int64_t head = Head();
  auto never = api().Delete("/v1/kv/" + K("never"));
  EXPECT_EQ(never.status, 404) << never;
  EXPECT_EQ(never.ErrorCode(), "not_found");
  ASSERT_EQ(api().Set(K("once"), "1").status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("once")).status, 200);
  const int64_t head2 = Head();
  EXPECT_EQ(head2, head + 2);
  auto twice = api().Delete("/v1/kv/" + K("once"));
  EXPECT_EQ(twice.status, 404) << twice;
  EXPECT_EQ(twice.ErrorCode(), "not_found");
  EXPECT_EQ(Head(), head2);
}

TEST_F(HttpKvTest, DeleteHonoursExpectedVersionAndIfMatch) {
  ASSERT_EQ(api().Set(K("dv"), "1").status, 201);
  ASSERT_EQ(api().Set(K("dv"), "2").status, 200);
  const int64_t head = Head();
  auto q = api().Delete("/v1/kv/" + K("dv") + "?expected_version=1");
  ASSERT_EQ(q.status, 409) << q;
  EXPECT_EQ(q.ErrorCode(), "version_conflict");
  EXPECT_EQ(q.json["error"]["expected_version"], 1);
  EXPECT_EQ(q.json["error"]["current_version"], 2);
  auto h = api().Delete("/v1/kv/" + K("dv"), {{"If-Match", Etag(1)}});
  ASSERT_EQ(h.status, 409) << h;
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().GetKey(K("dv")).status, 200);
  auto ok = api().Delete("/v1/kv/" + K("dv") + "?expected_version=2");
  EXPECT_EQ(ok.status, 200) << ok;
  EXPECT_EQ(Head(), head + 1);
}

TEST_F(HttpKvTest, VersionsNeverReset) {
  auto v1 = api().Set(K("v"), "1");
  ASSERT_EQ(v1.status, 201) << v1;
  auto v2 = api().Set(K("v"), "2");
  ASSERT_EQ(v2.status, 200) << v2;
  auto v3 = api().Delete("/v1/kv/" + K("v"));
  ASSERT_EQ(v3.status, 200) << v3;
  auto v4 = api().Set(K("v"), "4");
  ASSERT_EQ(v4.status, 201) << "re-creating a deleted key is a create: " << v4;
  const int64_t rev4 = v4.json["revision"].get<int64_t>();
  EXPECT_EQ(v4.json["entry"]["version"], 4);
  EXPECT_EQ(v4.json["entry"]["created_revision"], rev4);
  EXPECT_EQ(v4.json["entry"]["modified_revision"], rev4);

  auto h = api().Get("/v1/history/" + K("v"));
  ASSERT_EQ(h.status, 200) << h;
  auto& ev = h.json["events"];
  ASSERT_EQ(ev.size(), 4u) << h;
  EXPECT_EQ(ev[0]["version"], 4);
  EXPECT_EQ(ev[1]["version"], 3);
  EXPECT_EQ(ev[1]["type"], "ConfigDeleted");
  EXPECT_EQ(ev[2]["version"], 2);
  EXPECT_EQ(ev[3]["version"], 1);
  // The re-create has no previous value: the key did not exist before.
  EXPECT_FALSE(ev[0].contains("previous_value")) << ev[0];
}

TEST_F(HttpKvTest, EncodedSlashAndPlainSlashNameTheSameKey) {
  const std::string key = K("dir/sub/leaf");
  auto r = api().Set(client::UrlEncode(key), "1");  // every '/' as %2F
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.json["entry"]["key"], key);
  auto g = api().GetKey(key);
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.json["key"], key);
  auto g2 = api().GetKey(client::UrlEncode(key));
  ASSERT_EQ(g2.status, 200) << g2;
  EXPECT_EQ(g2.json["key"], key);
  auto u = api().Set(key, "2");
  EXPECT_EQ(u.status, 200) << u;
  auto d = api().Delete("/v1/kv/" + client::UrlEncode(key));
  EXPECT_EQ(d.status, 200) << d;
}

TEST_F(HttpKvTest, ValueIsMinifiedWithNumberTextEscapesAndOrderKept) {
  const std::string sent =
      "{ \"value\" :\n\t{ \"z\" : 1.50 ,\r\n \"a\" : [ 12345678901234567890 , \"caf\\u00e9\" ,"
      " \"tab\\t x\" , -0.0 , 1E+2 , true , null ] ,\n \"m\" : { } , \"s\" : \" spaced  out \" } }";
  const std::string expected =
      R"({"z":1.50,"a":[12345678901234567890,"caf\u00e9","tab\t x",-0.0,1E+2,true,null],"m":{},"s":" spaced  out "})";
  auto r = api().Put("/v1/kv/" + K("min"), sent);
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(RawAt(r.body, "entry.value"), expected);
  auto g = api().GetKey(K("min"));
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(RawAt(g.body, "value"), expected);
  EXPECT_NE(g.body.find("12345678901234567890"), std::string::npos);
  EXPECT_NE(g.body.find("caf\\u00e9"), std::string::npos);
  auto h = api().Get("/v1/history/" + K("min"));
  ASSERT_EQ(h.status, 200) << h;
  EXPECT_EQ(RawAt(h.body, "events.0.value"), expected);
  auto l = api().Get("/v1/kv?prefix=" + Q(prefix()));
  ASSERT_EQ(l.status, 200) << l;
  EXPECT_EQ(RawAt(l.body, "entries.0.value"), expected);
}

TEST_F(HttpKvTest, EveryJsonTypeIsAValue) {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"null", "null"},         {"t", "true"},          {"f", "false"},
      {"s", "\"str\""},         {"neg", "-12"},         {"exp", "6.02e23"},
      {"arr", "[]"},            {"obj", "{}"},          {"uni", "\"\\ud83d\\ude00\""},
      {"utf8", "\"gr\xc3\xbc\xc3\x9f\""}};
  for (const auto& [name, text] : values) {
    auto r = api().Set(K(name), text);
    ASSERT_EQ(r.status, 201) << name << ": " << r;
    auto g = api().GetKey(K(name));
    ASSERT_EQ(g.status, 200) << name << ": " << g;
    EXPECT_EQ(RawAt(g.body, "value"), text) << name;
  }
  // A null value is a value: the key exists.
  auto n = api().GetKey(K("null"));
  EXPECT_TRUE(n.json.contains("value") && n.json["value"].is_null()) << n;
}

TEST_F(HttpKvTest, ReasonAndRequestIdAppearInHistory) {
  ASSERT_EQ(api()
                .Put("/v1/kv/" + K("why"), R"({"value":1,"reason":"raise timeout"})",
                     {{"X-Request-Id", "req-123"}, {"X-Actor", "alice"}})
                .status,
            201);
  auto second = api().Set(K("why"), "2");
  ASSERT_EQ(second.status, 200);
  const std::string generated = second.Header("x-request-id");
  EXPECT_EQ(generated.size(), 32u) << "a request without X-Request-Id gets a generated one";
  ASSERT_EQ(api()
                .Delete("/v1/kv/" + K("why") + "?reason=" + Q("clean up & go"),
                        {{"X-Request-Id", "req-456"}})
                .status,
            200);
  auto h = api().Get("/v1/history/" + K("why"));
  ASSERT_EQ(h.status, 200) << h;
  auto& ev = h.json["events"];
  ASSERT_EQ(ev.size(), 3u) << h;
  EXPECT_EQ(ev[0]["type"], "ConfigDeleted");
  EXPECT_EQ(ev[0]["reason"], "clean up & go");
  EXPECT_EQ(ev[0]["request_id"], "req-456");
  EXPECT_FALSE(ev[1].contains("reason")) << "reason must be absent when none was given: " << ev[1];
  EXPECT_EQ(ev[1]["request_id"], generated)
      << "the generated request id is recorded in the commit (SPEC §2.1): " << ev[1];
  EXPECT_EQ(ev[2]["reason"], "raise timeout");
  EXPECT_EQ(ev[2]["request_id"], "req-123");
  EXPECT_EQ(ev[2]["actor"], "alice");

  auto rev = api().Get("/v1/revisions/" + std::to_string(ev[2]["revision"].get<int64_t>()));
  ASSERT_EQ(rev.status, 200) << rev;
  EXPECT_EQ(rev.json["reason"], "raise timeout");
  EXPECT_EQ(rev.json["request_id"], "req-123");
  EXPECT_EQ(rev.json["actor"], "alice");
}

TEST_F(HttpKvTest, EveryResponseCarriesTheRevisionHeader) {
  ASSERT_EQ(api().Set(K("hdr"), "1").status, 201);
  const int64_t head = Head();
  for (const char* target : {"/v1/status", "/healthz", "/readyz", "/metrics", "/v1/kv",
                             "/v1/events?limit=1"}) {
    auto r = api().Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r;
    EXPECT_EQ(r.RevisionHeader(), head) << target;
  }
  auto missing = api().GetKey(K("missing"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.RevisionHeader(), head) << "error responses carry it too";
  auto bad = api().GetKey(K("a%7Fb"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.RevisionHeader(), head);
}

}  // namespace
}  // namespace chronoconf::test
