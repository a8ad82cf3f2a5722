// Hardening at the HTTP boundary (issue 13): a browser cannot be turned
// against a local server (cross-site writes, DNS rebinding: SPEC §6), a
// header decides before a body is read, repeated singleton headers and
// conditional headers are never silently resolved or ignored, and the
// revision a response names is the one it was read at.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpBrowserGuardTest : public ServerTest {
 protected:
  // A raw request to the shared server; the status code of its answer.
  int RawStatus(const std::string& request, std::string* response = nullptr) {
    RawConnection c;
    if (!c.Connect(server()->port())) return -1;
    if (!c.SendAll(request)) return -2;
    std::string out;
    c.ReadUntilClosed(std::chrono::seconds(5), &out);
    if (response) *response = out;
    if (out.size() < 12 || !out.starts_with("HTTP/1.1 ")) return 0;
    return std::stoi(out.substr(9, 3));
  }
  std::string Port() { return std::to_string(server()->port()); }
  Headers Json() { return {{"Content-Type", "application/json"}}; }
};

// Item 1: a POST without Content-Type is a CORS "simple request" any page
// may send without a preflight (fetch no-cors, sendBeacon).
TEST_F(HttpBrowserGuardTest, ABodyThatDoesNotSayJsonIs415) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  const std::string revert = R"({"to_revision":0})";
  // No Content-Type at all (the client would add one: a raw request).
  EXPECT_EQ(RawStatus("POST /v1/revert HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                      std::to_string(revert.size()) + "\r\n\r\n" + revert),
            415);
  EXPECT_EQ(RawStatus("PUT /v1/kv/" + K("a") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Length: 11\r\n\r\n{\"value\":2}"),
            415);
  for (const Headers& h : {Headers{{"Content-Type", "text/plain;charset=UTF-8"}},
                           Headers{{"Content-Type", "application/x-www-form-urlencoded"}},
                           Headers{{"Content-Type", "multipart/form-data; boundary=x"}}}) {
    auto r = api().Request("POST", "/v1/revert", revert, h);
    EXPECT_EQ(r.status, 415) << r;
    EXPECT_EQ(r.ErrorCode(), "unsupported_media_type");
    r = api().Request("POST", "/v1/import", R"({"values":{}})", h);
    EXPECT_EQ(r.status, 415) << r;
    r = api().Request("POST", "/v1/txn", R"({"ops":[]})", h);
    EXPECT_EQ(r.status, 415) << r;
    r = api().Request("PUT", "/v1/kv/" + K("a"), R"({"value":2})", h);
    EXPECT_EQ(r.status, 415) << r;
  }
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().Request("POST", "/v1/revert", revert,
                          {{"Content-Type", "application/json; charset=utf-8"}})
                .status,
            200);
}

TEST_F(HttpBrowserGuardTest, CrossSiteWritesAreRefused) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  const std::string self = "http://127.0.0.1:" + Port();
  for (const Headers& extra :
       {Headers{{"Origin", "http://evil.example"}},
        Headers{{"Origin", "http://127.0.0.1:1"}},  // another port of this machine
        Headers{{"Origin", "null"}},                 // a sandboxed frame, a file
        Headers{{"Origin", "https://127.0.0.1:" + Port()}},
        Headers{{"Sec-Fetch-Site", "cross-site"}},
        Headers{{"Sec-Fetch-Site", "same-site"}},
        Headers{{"Sec-Fetch-Site", "same-site"}, {"Origin", self}}}) {
    Headers h = Json();
    h.insert(extra.begin(), extra.end());
    auto r = api().Request("POST", "/v1/revert", R"({"to_revision":0})", h);
    EXPECT_EQ(r.status, 403) << extra.begin()->second << ": " << r;
    EXPECT_EQ(r.ErrorCode(), "forbidden");
    r = api().Request("DELETE", "/v1/kv/" + K("a"), {}, extra);
    EXPECT_EQ(r.status, 403) << r;
    r = api().Request("PUT", "/v1/kv/" + K("a"), R"({"value":9})", h);
    EXPECT_EQ(r.status, 403) << r;
  }
  EXPECT_EQ(Head(), head);
  // The console (same origin) and tools (no Origin) still write.
  Headers console = Json();
  console["Origin"] = self;
  console["Sec-Fetch-Site"] = "same-origin";
  EXPECT_EQ(api().Request("PUT", "/v1/kv/" + K("a"), R"({"value":2})", console).status, 200);
  Headers typed = Json();
  typed["Sec-Fetch-Site"] = "none";
  EXPECT_EQ(api().Request("PUT", "/v1/kv/" + K("a"), R"({"value":3})", typed).status, 200);
  // Reads carry no such check (the browser keeps their answers from the page).
  EXPECT_EQ(api().Get("/v1/kv/" + K("a"), {{"Origin", "http://evil.example"}}).status, 200);
}

// Item 2: a rebound name reaches 127.0.0.1 with its own Host.
TEST_F(HttpBrowserGuardTest, ForeignHostIsRefusedWithAuthOff) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  for (const std::string& host : {"evil.example:" + Port(), std::string("EVIL.example."),
                                  "localhost.evil.example:" + Port(), std::string("127.0.0.1.nip.io"),
                                  std::string("10.0.0.1:") + Port()}) {
    std::string response;
    EXPECT_EQ(RawStatus("GET /v1/export HTTP/1.1\r\nHost: " + host + "\r\n\r\n", &response), 403)
        << host << ": " << response;
    EXPECT_EQ(RawStatus("GET /v1/watch HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), 403) << host;
    EXPECT_EQ(RawStatus("PUT /v1/kv/" + K("a") + " HTTP/1.1\r\nHost: " + host +
                        "\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                        "{\"value\":2}"),
              403)
        << host;
  }
  EXPECT_EQ(Head(), head);
  for (const std::string& host :
       {"localhost:" + Port(), std::string("LOCALHOST"), "127.0.0.1:" + Port(),
        std::string("127.0.0.2"), "[::1]:" + Port(), std::string("app.localhost")}) {
    EXPECT_EQ(RawStatus("GET /v1/export HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"),
              200)
        << host;
  }
  // Probes answer whatever the Host.
  EXPECT_EQ(RawStatus("GET /healthz HTTP/1.1\r\nHost: lb.internal\r\n\r\n"), 200);
}

// Item 6: one meaning per header; which copy would a proxy have checked?
TEST_F(HttpBrowserGuardTest, RepeatedSingletonHeadersAre400) {
  const int64_t head = Head();
  for (const std::string& twice :
       {std::string("Authorization: Bearer a\r\nAuthorization: Bearer b\r\n"),
        std::string("X-Request-Id: a\r\nX-Request-Id: b\r\n"),
        std::string("X-Actor: a\r\nx-actor: b\r\n"),
        std::string("Content-Type: application/json\r\nContent-Type: text/plain\r\n"),
        std::string("If-Match: \"1\"\r\nIf-Match: \"2\"\r\n"),
        std::string("Origin: http://127.0.0.1\r\nOrigin: http://evil.example\r\n")}) {
    EXPECT_EQ(RawStatus("PUT /v1/kv/" + K("a") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + twice +
                        "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                        "{\"value\":2}"),
              400)
        << twice;
  }
  EXPECT_EQ(RawStatus("GET /v1/watch HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 1\r\n"
                      "Last-Event-ID: 2\r\n\r\n"),
            400);
  EXPECT_EQ(Head(), head);
}

// Item 13: RFC 9110 conditionals are honoured or refused, never ignored.
TEST_F(HttpBrowserGuardTest, ConditionalHeadersAreHonouredOrRefused) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  const int64_t head = Head();
  const Headers json = Json();
  auto with = [&](Headers h) {
    h.insert(json.begin(), json.end());
    return h;
  };
  const std::string put = "/v1/kv/" + K("a");
  for (const Headers& h :
       {Headers{{"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}},
        Headers{{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}},
        Headers{{"If-Match", "W/\"1\""}}, Headers{{"If-Match", "\"01\""}},
        Headers{{"If-Match", "1"}}, Headers{{"If-Match", "\"1\", \"2\""}},
        Headers{{"If-Match", "*"}}}) {
    auto r = api().Put(put, R"({"value":5})", with(h));
    EXPECT_EQ(r.status, 400) << h.begin()->first << ": " << h.begin()->second << " -> " << r;
    r = api().Delete(put, h);
    EXPECT_EQ(r.status, 400) << h.begin()->first << ": " << h.begin()->second << " -> " << r;
  }
  EXPECT_EQ(api().Post("/v1/txn", R"({"ops":[]})",
                       with({{"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}))
                .status,
            400);
  EXPECT_EQ(Head(), head);
  // Routes without a validator refuse them.
  for (const std::string& target :
       {"/v1/kv?prefix=" + Q(prefix()), "/v1/history/" + K("a"), std::string("/v1/export")}) {
    EXPECT_EQ(api().Get(target, {{"If-None-Match", "\"1\""}}).status, 400) << target;
    EXPECT_EQ(api().Get(target, {{"If-Match", "\"1\""}}).status, 400) << target;
  }
  // GET of a key: If-None-Match with weak comparison, as a cache sends it.
  for (const char* tag : {"\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"}) {
    auto r = api().Get("/v1/kv/" + K("a"), {{"If-None-Match", tag}});
    EXPECT_EQ(r.status, 304) << tag << ": " << r;
    EXPECT_EQ(r.Header("etag"), "\"1\"");
  }
  EXPECT_EQ(api().Get("/v1/kv/" + K("a"), {{"If-None-Match", "\"2\""}}).status, 200);
  EXPECT_EQ(api().Get("/v1/kv/" + K("a"), {{"If-None-Match", "\"11\""}}).status, 200);
  EXPECT_EQ(api().Get("/v1/kv/" + K("a"), {{"If-None-Match", "1"}}).status, 400);
  // The strong tag the server gave works for a write.
  EXPECT_EQ(api().Put(put, R"({"value":6})", with({{"If-Match", "\"1\""}})).status, 200);
  EXPECT_EQ(api().Put(put, R"({"value":7})", with({{"If-Match", "\"1\""}})).status, 409);
}

// Item 16: the revision header is the head the answer was read at, not one
// read after it (a GET served at H must not say H+1).
TEST_F(HttpBrowserGuardTest, RevisionHeaderIsTheRevisionReadAt) {
  ASSERT_EQ(api().Set(K("hot"), "0").status, 201);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    Api w(api().base_url());
    for (int i = 1; !done.load() && i < 100000; ++i) w.Set(K("hot"), std::to_string(i));
  });
  int mismatches = 0, reads = 0;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
       std::chrono::steady_clock::now() < end; ++reads) {
    auto r = api().Get("/v1/kv/" + K("hot"));
    ASSERT_EQ(r.status, 200) << r;
    // Only this test writes, and every commit changes the key: the head it
    // was read at is its modified_revision.
    if (r.RevisionHeader() != r.json["modified_revision"].get<int64_t>()) ++mismatches;
    auto list = api().Get("/v1/kv?prefix=" + Q(K("hot")));
    ASSERT_EQ(list.status, 200) << list;
    if (list.RevisionHeader() != list.json["revision"].get<int64_t>()) ++mismatches;
  }
  done = true;
  writer.join();
  EXPECT_EQ(mismatches, 0) << "of " << reads << " reads";
}

TEST_F(HttpBrowserGuardTest, ConsoleTakesCacheBustingQueries) {
  for (const char* target : {"/ui/?v=1", "/ui/app.js?v=2&x", "/ui?t=3"}) {
    auto r = api().Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r;
  }
}

// The access log's text lines: values quoted as logfmt does, so a header
// cannot forge a field.
TEST(BrowserGuardServeTest, HeaderTextCannotForgeLogFields) {
  ServerProcess server("memory:", {"--log-level", "info"});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  auto r = api.Put("/v1/kv/forge", R"({"value":1})",
                   {{"Content-Type", "application/json"},
                    {"X-Request-Id", "x actor=admin"},
                    {"X-Actor", "mallory status=200"}});
  ASSERT_EQ(r.status, 201) << r;
  std::string line;
  for (int i = 0; i < 50 && line.empty(); ++i) {
    std::istringstream in(server.Log());
    for (std::string l; std::getline(in, l);) {
      if (l.find("/v1/kv/{key}") != std::string::npos && l.find("PUT") != std::string::npos) {
        line = l;
      }
    }
    if (line.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(line.empty()) << server.Log();
  EXPECT_NE(line.find("request_id=\"x actor=admin\""), std::string::npos) << line;
  EXPECT_NE(line.find("actor=\"mallory status=200\""), std::string::npos) << line;
  EXPECT_EQ(line.find("request_id=x "), std::string::npos) << line;
}

// Item 7: with auth on, the token is checked when the header is in: an
// unauthenticated client gets its 401 without sending (or the server
// reading) the body it announced.
TEST(BrowserGuardServeTest, AuthIsCheckedBeforeTheBodyIsRead) {
  TempDir dir;
  std::ofstream(dir.File("auth.json"))
      << R"({"tokens":[{"name":"a","sha256":")" << Sha256Hex("t0ken") << R"(","role":"admin"}]})";
  ServerProcess server("memory:", {"--auth-file", dir.File("auth.json")});
  ASSERT_TRUE(server.Start());
  RawConnection c;
  ASSERT_TRUE(c.Connect(server.port()));
  ASSERT_TRUE(c.SendAll("POST /v1/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"));
  std::string out;
  auto status = c.ReadSome(&out, std::chrono::seconds(3));
  ASSERT_EQ(status, RawConnection::ReadStatus::kData) << "no answer before the body";
  EXPECT_TRUE(out.starts_with("HTTP/1.1 401")) << out;
  // With auth on, any Host is served (the token protects it).
  Api api(server.url());
  auto r = api.Get("/v1/status", {{"Authorization", "Bearer t0ken"}, {"Host", "chronoconf.internal"}});
  EXPECT_EQ(r.status, 200) << r;
}

}  // namespace
}  // namespace chronoconf::test
