// SPEC §2.1: every error code that applies without auth, its status and body
// shape, and "a request that fails changes nothing".
#include <algorithm>
#include <string>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

// Small limits so that the too_large cases stay small.
constexpr int kMaxValueBytes = 1024;
constexpr int kMaxBodyBytes = 65536;

class HttpErrorsTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer("memory:", {"--max-value-bytes", std::to_string(kMaxValueBytes),
                                  "--max-body-bytes", std::to_string(kMaxBodyBytes)});
  }

 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    head_at_start_ = Head();
  }

  // Checks status, code and the error body shape.
  void ExpectError(const ApiResponse& r, int status, const std::string& code,
                   const std::string& what) {
    EXPECT_EQ(r.status, status) << what << " -> " << r;
    EXPECT_EQ(r.ErrorCode(), code) << what << " -> " << r;
    if (r.json.is_object() && r.json.contains("error")) {
      const auto& e = r.json["error"];
      EXPECT_TRUE(e.contains("message") && e["message"].is_string() &&
                  !e["message"].get<std::string>().empty())
          << what << ": error.message must be a sentence: " << r;
    }
    EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u) << what;
  }

  // Every test ends with the head where it started unless it wrote on purpose.
  void ExpectNothingWritten() { EXPECT_EQ(Head(), head_at_start_) << "a failed request wrote"; }

  int64_t head_at_start_ = 0;
};

const std::vector<std::string>& BadKeys() {
  static const std::vector<std::string> keys = {
      // SPEC §1: 1–1024 bytes of UTF-8 without control characters.
      std::string(1025, 'k'), "a\tb", std::string("a\0b", 3), "a\x01", "a\x1f", "a\x7f",
      "a\nb", "a\xff", "caf\xc3", "\xc3\xa9\x80", "\xed\xa0\x80" /* a surrogate */,
      "\xc0\xaf" /* overlong '/' */};
  return keys;
}

TEST_F(HttpErrorsTest, InvalidKeysAreRejectedEverywhere) {
  for (const auto& key : BadKeys()) {
    const std::string path = client::UrlEncode(key);  // '/' as %2F
    SCOPED_TRACE("key " + path);
    ExpectError(api().Put("/v1/kv/" + path, R"({"value":1})"), 400, "invalid_key", "PUT");
    ExpectError(api().Get("/v1/kv/" + path), 400, "invalid_key", "GET");
    ExpectError(api().Delete("/v1/kv/" + path), 400, "invalid_key", "DELETE");
    ExpectError(api().Get("/v1/history/" + path), 400, "invalid_key", "history");
    json txn = {{"ops", {{{"op", "set"}, {"key", key}, {"value", 1}}}}};
    // (JSON bodies can only carry valid UTF-8 without NUL: those keys are
    // sent in paths only.)
    if (std::all_of(key.begin(), key.end(), [](char c) { return c > 0; })) {
      ExpectError(api().Post("/v1/txn", txn.dump()), 400, "invalid_key", "txn");
      json imp = {{"values", {{key, 1}}}};
      ExpectError(api().Post("/v1/import", imp.dump()), 400, "invalid_key", "import");
    }
  }
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, InvalidKeysInRawPaths) {
  // The same rules when the path holds the bytes percent-encoded.
  for (const std::string& raw : {K("a%00b"), K("a%0Ab"), K("a%7F"), K("a%FF"), K("a%C3")}) {
    ExpectError(api().Put("/v1/kv/" + raw, R"({"value":1})"), 400, "invalid_key", raw);
    ExpectError(api().Get("/v1/kv/" + raw), 400, "invalid_key", raw);
  }
  ExpectNothingWritten();
}

// SPEC §1: '/' at either end, repeated '/', '.' and '..' segments, spaces
// and any other character are ordinary bytes of a key; the path after
// /v1/kv/ is decoded once and not normalised, so each is its own key.
TEST_F(HttpErrorsTest, WideKeysAreTheirOwnKeys) {
  const std::vector<std::string> keys = {
      "/" + K("a"), K("a/"), K("a//b"), K("a/./b"), K("a/../b"), K("."), K(".."), K("a b"),
      K("a$b\"\\?#%:*+,"), K("caf\xc3\xa9"), "/", "//", " ", K("\xf0\x9f\x99\x82")};
  int64_t version = 0;
  for (const std::string& key : keys) {
    auto r = api().Set(client::UrlEncode(key), std::to_string(++version));
    ASSERT_EQ(r.status, 201) << key << " -> " << r;
    EXPECT_EQ(r.json["entry"]["key"], key);
  }
  version = 0;
  for (const std::string& key : keys) {
    auto r = api().Get("/v1/kv/" + client::UrlEncode(key));
    ASSERT_EQ(r.status, 200) << key << " -> " << r;
    EXPECT_EQ(r.json["key"], key);
    EXPECT_EQ(r.json["value"], ++version) << key;
  }
  // Unencoded slashes and dots in the path are the same bytes.
  auto raw = api().Get("/v1/kv/" + K("a//b"));
  ASSERT_EQ(raw.status, 200) << raw;
  EXPECT_EQ(raw.json["key"], K("a//b"));
  raw = api().Get("/v1/kv/" + K("a/../b"));
  ASSERT_EQ(raw.status, 200) << raw;
  EXPECT_EQ(raw.json["key"], K("a/../b"));
}

TEST_F(HttpErrorsTest, ValidEdgeKeysAreAccepted) {
  const std::string base = K("");
  for (const std::string& key :
       {base + std::string(1024 - base.size(), 'k'), K("a..b"), K("a."), K("_"), K("0"),
        K("a-b/c.d_e/F"), std::string("_top"), std::string("9lives")}) {
    auto r = api().Set(client::UrlEncode(key), "1");
    EXPECT_EQ(r.status, 201) << key << " -> " << r;
    EXPECT_EQ(r.json["entry"]["key"], key);
  }
}

TEST_F(HttpErrorsTest, InvalidJson) {
  for (const std::string& body :
       {std::string("not json"), std::string(R"({"value":1} x)"), std::string(R"({"value":1}})"),
        std::string(R"({"value":)"), std::string(R"({'value':1})"), std::string(R"({"value":01})"),
        std::string(R"({"value":[1,]})"), std::string(R"({"value":NaN})"),
        std::string("{\"value\":\"a\nb\"}")}) {
    ExpectError(api().Put("/v1/kv/" + K("a"), body), 400, "invalid_json", body);
  }
  ExpectError(api().Post("/v1/txn", "{\"ops\":[]}{}"), 400, "invalid_json", "txn");
  ExpectError(api().Post("/v1/import", "{\"values\":"), 400, "invalid_json", "import");
  ExpectError(api().Post("/v1/revert", "revert!"), 400, "invalid_json", "revert");
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, InvalidRequestBodies) {
  for (const std::string& body :
       {std::string("{}"), std::string(R"({"val":1})"), std::string("[1]"), std::string("\"x\""),
        std::string("null"), std::string(R"({"value":1,"expected_version":"1"})"),
        std::string(R"({"value":1,"expected_version":-1})"),
        std::string(R"({"value":1,"expected_version":1.5})"),
        std::string(R"({"value":1,"reason":5})")}) {
    ExpectError(api().Put("/v1/kv/" + K("a"), body), 400, "invalid_request", body);
  }
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, InvalidQueryValues) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  head_at_start_ = Head();
  const std::string key = "/v1/kv/" + K("a");
  for (const std::string& target :
       {std::string("/v1/kv?limit=abc"), std::string("/v1/kv?limit=-1"),
        std::string("/v1/kv?at_revision=abc"), std::string("/v1/kv?at_revision=-3"),
        key + "?at_revision=1x", key + "?at_time=yesterday", key + "?min_revision=soon",
        key + "?min_revision=1&timeout_ms=abc", std::string("/v1/events?from_revision=abc"),
        std::string("/v1/events?limit=many"), std::string("/v1/events?since=monday"),
        "/v1/history/" + K("a") + "?limit=abc",
        "/v1/history/" + K("a") + "?before_revision=x", std::string("/v1/diff?from_revision=q"),
        std::string("/v1/export?format=toml")}) {
    auto r = api().Get(target);
    ExpectError(r, 400, "invalid_request", target);
  }
  ExpectError(api().Delete(key + "?expected_version=abc"), 400, "invalid_request", "DELETE");
  EXPECT_EQ(api().GetKey(K("a")).status, 200);
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, FutureRevision) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  head_at_start_ = Head();
  const std::string future = std::to_string(head_at_start_ + 1);
  for (const std::string& target :
       {"/v1/kv/" + K("a") + "?at_revision=" + future, "/v1/kv?at_revision=" + future,
        "/v1/revisions/" + future, "/v1/diff?to_revision=" + future,
        "/v1/diff?from_revision=" + future, "/v1/export?at_revision=" + future}) {
    ExpectError(api().Get(target), 400, "future_revision", target);
  }
  ExpectError(api().Post("/v1/revert", json{{"to_revision", head_at_start_ + 1}}.dump()), 400,
              "future_revision", "revert");
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, NotFound) {
  ExpectError(api().GetKey(K("nope")), 404, "not_found", "GET key");
  ExpectError(api().Delete("/v1/kv/" + K("nope")), 404, "not_found", "DELETE key");
  ExpectError(api().Get("/v1/history/" + K("nope")), 404, "not_found", "history");
  ExpectError(api().Get("/v1/revisions/0"), 404, "not_found", "revision 0");
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, VersionConflictDetails) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  head_at_start_ = Head();
  auto r = api().Put("/v1/kv/" + K("a"), R"({"value":2,"expected_version":7})");
  ExpectError(r, 409, "version_conflict", "PUT");
  EXPECT_EQ(r.json["error"]["key"], K("a"));
  EXPECT_EQ(r.json["error"]["expected_version"], 7);
  EXPECT_EQ(r.json["error"]["current_version"], 1);
  auto never = api().Put("/v1/kv/" + K("b"), R"({"value":2,"expected_version":3})");
  ExpectError(never, 409, "version_conflict", "PUT never written");
  EXPECT_EQ(never.json["error"]["current_version"], 0);
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, ValueOverMaxValueBytesIsTooLarge) {
  // A string value's text is its characters plus two quotes.
  const std::string at_limit = "\"" + std::string(kMaxValueBytes - 2, 'v') + "\"";
  const std::string over = "\"" + std::string(kMaxValueBytes - 1, 'v') + "\"";
  ExpectError(api().Set(K("big"), over), 413, "too_large", "value over the limit");
  ExpectError(api().Post("/v1/txn", json{{"ops", {{{"op", "set"}, {"key", K("big")},
                                                   {"value", std::string(kMaxValueBytes, 'v')}}}}}
                                        .dump()),
              413, "too_large", "txn value over the limit");
  ExpectError(api().Post("/v1/import",
                         json{{"values", {{K("big"), std::string(kMaxValueBytes, 'v')}}}}.dump()),
              413, "too_large", "import value over the limit");
  ExpectNothingWritten();
  EXPECT_EQ(api().GetKey(K("big")).status, 404);
  auto ok = api().Set(K("big"), at_limit);
  EXPECT_EQ(ok.status, 201) << "a value of exactly --max-value-bytes is allowed: " << ok;
}

TEST_F(HttpErrorsTest, BodyOverMaxBodyBytesIsTooLarge) {
  // Every value is small; the body as a whole is over the limit.
  json ops = json::array();
  for (int i = 0; i < 100; ++i) {
    ops.push_back({{"op", "set"}, {"key", K("k" + std::to_string(i))},
                   {"value", std::string(700, 'x')}});
  }
  const std::string body = json{{"ops", ops}}.dump();
  ASSERT_GT(body.size(), static_cast<size_t>(kMaxBodyBytes));
  ExpectError(api().Post("/v1/txn", body), 413, "too_large", "txn body");
  const std::string put = R"({"value":1,"reason":")" + std::string(kMaxBodyBytes, 'r') + "\"}";
  ExpectError(api().Put("/v1/kv/" + K("a"), put), 413, "too_large", "PUT body");
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, TxnOver1000OpsIsTooLarge) {
  json ops = json::array();
  for (int i = 0; i <= 1000; ++i) {
    ops.push_back({{"op", "check"}, {"key", "t/" + std::to_string(i)}, {"expected_version", 0}});
  }
  const std::string body = json{{"ops", ops}}.dump();
  ASSERT_LT(body.size(), static_cast<size_t>(kMaxBodyBytes));
  ExpectError(api().Post("/v1/txn", body), 413, "too_large", "1001 ops");
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, NonJsonContentTypeIsUnsupported) {
  ExpectError(api().Put("/v1/kv/" + K("a"), R"({"value":1})", {{"Content-Type", "text/plain"}}),
              415, "unsupported_media_type", "PUT text/plain");
  ExpectError(api().Post("/v1/txn", R"({"ops":[]})", {{"Content-Type", "application/xml"}}), 415,
              "unsupported_media_type", "txn xml");
  ExpectError(api().Post("/v1/import", R"({"values":{}})",
                         {{"Content-Type", "application/x-www-form-urlencoded"}}),
              415, "unsupported_media_type", "import form");
  ExpectNothingWritten();
  auto charset = api().Put("/v1/kv/" + K("a"), R"({"value":1})",
                           {{"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(charset.status, 201) << "a JSON content type with parameters is JSON: " << charset;
}

TEST_F(HttpErrorsTest, MinRevisionTimeout) {
  ExpectError(api().Get("/v1/kv?min_revision=" + std::to_string(head_at_start_ + 100) +
                        "&timeout_ms=50"),
              504, "timeout", "list");
  ExpectNothingWritten();
}

TEST_F(HttpErrorsTest, UnknownRouteIs404) {
  auto r = api().Get("/v1/nothing-here");
  EXPECT_EQ(r.status, 404) << r;
  auto m = api().Request("PATCH", "/v1/kv/" + K("a"), R"({"value":1})");
  EXPECT_EQ(m.status, 405) << m;
  // RFC 9110: a 405 names the methods the resource takes.
  EXPECT_EQ(m.Header("allow"), "GET, HEAD, PUT, DELETE") << m;
  ExpectNothingWritten();
}

// SPEC §1: a key is 1 to 1024 bytes, so the key routes with the key left
// out name an empty key.
TEST_F(HttpErrorsTest, AnEmptyKeyIsAnInvalidKey) {
  ExpectError(api().Put("/v1/kv/", R"({"value":1})"), 400, "invalid_key", "PUT /v1/kv/");
  ExpectError(api().Delete("/v1/kv/"), 400, "invalid_key", "DELETE /v1/kv/");
  ExpectError(api().Get("/v1/history/"), 400, "invalid_key", "GET /v1/history/");
  EXPECT_EQ(api().Get("/v1/kv/").status, 200);  // a list, as /v1/kv
  ExpectNothingWritten();
}

}  // namespace
}  // namespace chronoconf::test
