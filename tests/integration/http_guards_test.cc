// Guards and log texts (issue 5, part 1, defects 1, 6 and 7): nothing a
// client sends may write unconditionally when it meant a condition, and no
// text may enter the immutable log that a strict JSON reader would refuse.
// Every case checks the status, the error code, and that nothing was written.
#include <string>
#include <vector>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpGuardsTest : public ServerTest {
 protected:
  // Asserts `r` is 400 invalid_request and the head did not move.
  void ExpectRefused(const ApiResponse& r, int64_t head, const std::string& what) {
    EXPECT_EQ(r.status, 400) << what << ": " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_request") << what << ": " << r;
    EXPECT_EQ(Head(), head) << what << " must write nothing";
  }

  // GET /v1/events from `from` parses as strict JSON (nlohmann refuses
  // invalid UTF-8).
  void ExpectEventsReadable(int64_t from) {
    auto r = api().Get("/v1/events?from_revision=" + std::to_string(from));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_FALSE(r.json.is_discarded()) << "the audit log must stay strict JSON: " << r;
  }
};

// Defect 1: DELETE ?reason=%FF%FE was stored as raw bytes.
TEST_F(HttpGuardsTest, InvalidUtf8ReasonInQueryIsRefused) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  ExpectRefused(api().Delete("/v1/kv/" + K("a") + "?reason=%FF%FE"), head, "reason %FF%FE");
  ExpectRefused(api().Delete("/v1/kv/" + K("a") + "?reason=a%00b"), head, "reason with NUL");
  EXPECT_EQ(api().GetKey(K("a")).status, 200) << "the key must still exist";
  ExpectEventsReadable(0);
}

TEST_F(HttpGuardsTest, MalformedPercentEscapesAreRefused) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  for (std::string bad : {"%-1", "%+1", "%1", "%G0", "% 1", "%"}) {
    auto r = api().Delete("/v1/kv/" + K("a") + "?reason=" + bad);
    EXPECT_EQ(r.status, 400) << "reason=" << bad << ": " << r;
    EXPECT_EQ(Head(), head);
  }
  EXPECT_EQ(api().GetKey(K("a")).status, 200);
}

TEST_F(HttpGuardsTest, ReasonLimitIs4096Bytes) {
  const int64_t head = Head();
  auto too_long = api().Put("/v1/kv/" + K("r"),
                            R"({"value":1,"reason":")" + std::string(4097, 'x') + "\"}");
  ExpectRefused(too_long, head, "a 4097-byte reason");
  auto ok = api().Put("/v1/kv/" + K("r"),
                      R"({"value":1,"reason":")" + std::string(4096, 'x') + "\"}");
  EXPECT_EQ(ok.status, 201) << ok;
  // A lone surrogate escape decodes to no valid UTF-8.
  auto surrogate = api().Put("/v1/kv/" + K("r"), R"({"value":2,"reason":"\ud800"})");
  EXPECT_EQ(surrogate.status, 400) << surrogate;
  EXPECT_EQ(Head(), head + 1);
}

TEST_F(HttpGuardsTest, ActorAndRequestIdLimitsAre256Bytes) {
  const int64_t head = Head();
  ExpectRefused(api().Put("/v1/kv/" + K("x"), R"({"value":1})",
                          {{"X-Actor", std::string(257, 'a')}}),
                head, "a 257-byte actor");
  ExpectRefused(api().Put("/v1/kv/" + K("x"), R"({"value":1})",
                          {{"X-Request-Id", std::string(257, 'r')}}),
                head, "a 257-byte request id");
  auto ok = api().Put("/v1/kv/" + K("x"), R"({"value":1})",
                      {{"X-Actor", std::string(256, 'a')}, {"X-Request-Id", std::string(256, 'r')}});
  EXPECT_EQ(ok.status, 201) << ok;
  EXPECT_EQ(ok.Header("x-request-id"), std::string(256, 'r')) << "the client's id is echoed";
}

TEST_F(HttpGuardsTest, InvalidUtf8HeadersAreRefused) {
  const int64_t head = Head();
  for (std::string header : {"X-Actor", "X-Request-Id"}) {
    RawConnection c;
    ASSERT_TRUE(c.Connect(server()->port()));
    const std::string body = R"({"value":1})";
    ASSERT_TRUE(c.SendAll("PUT /v1/kv/" + K("h") + " HTTP/1.1\r\nHost: x\r\n" + header +
                          ": \xff\xfe\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body));
    std::string got;
    c.ReadUntilClosed(std::chrono::seconds(5), &got);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << header << ": " << got;
    EXPECT_NE(got.find("invalid_request"), std::string::npos) << got;
  }
  EXPECT_EQ(Head(), head);
  ExpectEventsReadable(0);
}

// Defect 6: a typo in the body wrote unconditionally.
TEST_F(HttpGuardsTest, UnknownBodyMembersAreRefused) {
  ASSERT_EQ(api().Set(K("g"), "1").status, 201);
  const int64_t head = Head();
  ExpectRefused(api().Put("/v1/kv/" + K("g"), R"({"value":2,"expected_verison":99})"), head,
                "PUT with expected_verison");
  ExpectRefused(api().Put("/v1/kv/" + K("g"), R"({"value":2,"value":3})"), head,
                "PUT with value twice");
  ExpectRefused(api().Post("/v1/txn", R"({"ops":[],"reasn":"x"})"), head, "txn body typo");
  ExpectRefused(api().Post("/v1/txn", R"({"ops":[{"op":"set","key":")" + K("g") +
                                          R"(","value":2,"expected_verison":1}]})"),
                head, "txn op typo");
  ExpectRefused(api().Post("/v1/txn", R"({"ops":[{"op":"delete","key":")" + K("g") +
                                          R"(","value":2}]})"),
                head, "a delete op with a value");
  ExpectRefused(api().Post("/v1/revert", R"({"to_revision":0,"prefx":"a/"})"), head,
                "revert typo");
  ExpectRefused(api().Post("/v1/import", R"({"values":{},"mod":"replace"})"), head,
                "import typo");
  ExpectRefused(api().Post("/v1/import", R"({"values":{")" + K("i") + R"(":1,")" + K("i") +
                                             R"(":2}})"),
                head, "import with a key twice");
  EXPECT_EQ(RawAt(api().GetKey(K("g")).body, "value"), "1");
}

TEST_F(HttpGuardsTest, BodiesOnDeleteAndGetAreRefused) {
  ASSERT_EQ(api().Set(K("d"), "1").status, 201);
  ASSERT_EQ(api().Set(K("d"), "2").status, 200);
  ASSERT_EQ(api().Set(K("d"), "3").status, 200);
  const int64_t head = Head();
  ExpectRefused(api().Request("DELETE", "/v1/kv/" + K("d"), R"({"expected_version":1})",
                              {{"Content-Type", "application/json"}}),
                head, "DELETE with a JSON body");
  EXPECT_EQ(api().GetKey(K("d")).status, 200) << "the key must not be deleted";
  auto get = api().Request("GET", "/v1/kv/" + K("d"), "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(get.status, 400) << get;
}

TEST_F(HttpGuardsTest, IfNoneMatchOtherThanStarIsRefused) {
  ASSERT_EQ(api().Set(K("n"), "1").status, 201);
  const int64_t head = Head();
  ExpectRefused(api().Put("/v1/kv/" + K("n"), R"({"value":2})", {{"If-None-Match", "\"1\""}}),
                head, "If-None-Match: \"1\"");
  ExpectRefused(api().Delete("/v1/kv/" + K("n"), {{"If-None-Match", "*"}}), head,
                "If-None-Match on DELETE");
  ExpectRefused(api().Post("/v1/txn", R"({"ops":[]})", {{"If-Match", "\"1\""}}), head,
                "If-Match on a txn");
  auto star = api().Put("/v1/kv/" + K("n"), R"({"value":2})", {{"If-None-Match", "*"}});
  EXPECT_EQ(star.status, 409) << "If-None-Match: * on an existing key: " << star;
}

TEST_F(HttpGuardsTest, ConditionalGetAnswers304) {
  auto put = api().Set(K("c"), "1");
  ASSERT_EQ(put.status, 201);
  auto same = api().Get("/v1/kv/" + K("c"), {{"If-None-Match", "\"1\""}});
  EXPECT_EQ(same.status, 304) << same;
  EXPECT_TRUE(same.body.empty());
  auto other = api().Get("/v1/kv/" + K("c"), {{"If-None-Match", "\"7\""}});
  EXPECT_EQ(other.status, 200) << other;
}

TEST_F(HttpGuardsTest, UnknownRepeatedAndPairedQueryParametersAreRefused) {
  ASSERT_EQ(api().Set(K("q"), "1").status, 201);
  const int64_t head = Head();
  for (const std::string& target : std::vector<std::string>{
           "/v1/kv/" + K("q") + "?at_revison=1", "/v1/kv?prefx=a", "/v1/events?from=0",
        "/v1/history/" + K("q") + "?limt=1", "/v1/status?verbose=1", "/v1/diff?from=1",
        "/v1/export?fmt=env", "/v1/kv/" + K("q") + "?at_revision=1&at_revision=2",
        "/v1/kv/" + K("q") + "?at_revision=1&at_time=2026-01-01T00:00:00Z",
        "/v1/diff?to_revision=1&to_time=2026-01-01T00:00:00Z", "/healthz?x=1"}) {
    auto r = api().Get(target);
    EXPECT_EQ(r.status, 400) << target << ": " << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_request") << target << ": " << r;
  }
  ExpectRefused(api().Delete("/v1/kv/" + K("q") + "?expected_verison=1"), head,
                "DELETE with a misspelt expected_version");
  ExpectRefused(api().Put("/v1/kv/" + K("q") + "?reason=x", R"({"value":2})"), head,
                "PUT with a query parameter");
  EXPECT_EQ(api().GetKey(K("q")).status, 200);
}

// Found by fuzzing: an error quoting a parameter name of invalid UTF-8
// was itself invalid JSON.
TEST_F(HttpGuardsTest, ErrorsQuotingClientBytesStayValidJson) {
  RawConnection c;
  ASSERT_TRUE(c.Connect(server()->port()));
  ASSERT_TRUE(c.SendAll("GET /v1/events?pre\xaf\xaf=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string got;
  c.ReadUntilClosed(std::chrono::seconds(5), &got);
  ASSERT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  auto body = json::parse(got.substr(got.find("\r\n\r\n") + 4), nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << got;
  EXPECT_EQ(body["error"]["code"], "invalid_request");
}

TEST_F(HttpGuardsTest, EveryResponseCarriesARequestId) {
  auto given = api().Get("/healthz", {{"X-Request-Id", "abc-1"}});
  EXPECT_EQ(given.Header("x-request-id"), "abc-1");
  auto generated = api().Get("/v1/kv/" + K("none"));
  EXPECT_EQ(generated.status, 404);
  EXPECT_EQ(generated.Header("x-request-id").size(), 32u) << generated;
  auto put = api().Put("/v1/kv/" + K("id"), R"({"value":1})");
  ASSERT_EQ(put.status, 201);
  auto rev = api().Get("/v1/revisions/" + std::to_string(put.json["revision"].get<int64_t>()));
  EXPECT_EQ(rev.json["request_id"], put.Header("x-request-id")) << rev;
}

// Defect 7: a value nested 511 deep was stored, then every listing failed.
TEST_F(HttpGuardsTest, ValueDepthLeavesRoomForEveryEnvelope) {
  const int64_t head = Head();
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  auto deep = api().Put("/v1/kv/" + K("deep"), "{\"value\":" + nested(101) + "}");
  ExpectRefused(deep, head, "a value 101 deep");
  auto deep_txn = api().Post("/v1/txn", R"({"ops":[{"op":"set","key":")" + K("deep") +
                                             R"(","value":)" + nested(101) + "}]}");
  ExpectRefused(deep_txn, head, "a txn value 101 deep");
  auto ok = api().Put("/v1/kv/" + K("deep"), "{\"value\":" + nested(100) + "}");
  ASSERT_EQ(ok.status, 201) << ok;
  // Every endpoint that carries the value reads back as JSON.
  for (const std::string& target : std::vector<std::string>{
           "/v1/kv/" + K("deep"), "/v1/kv?prefix=" + Q(prefix()), "/v1/history/" + K("deep"),
        std::string("/v1/events"), "/v1/diff?prefix=" + Q(prefix()),
        "/v1/export?prefix=" + Q(prefix()), "/v1/export?format=yaml&prefix=" + Q(prefix())}) {
    auto r = api().Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r;
  }
}

}  // namespace
}  // namespace chronoconf::test
