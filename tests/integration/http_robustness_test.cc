// SPEC §6: "No input — malformed HTTP, JSON, keys, huge bodies, slow clients —
// crashes the server or corrupts the store." Each test sends something hostile,
// accepts a 4xx answer or a closed connection, and checks that the server
// still serves.
#include <chrono>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;

class HttpRobustnessTest : public ServerTest {
 protected:
  void TearDown() override {
    if (server() == nullptr) return;
    Api fresh(server()->url(), std::chrono::seconds(5));
    auto h = fresh.Get("/healthz");
    EXPECT_EQ(h.status, 200) << "the server stopped serving; log:\n" << server()->Log();
    auto put = fresh.Set(K("alive"), "1");
    EXPECT_LT(put.status, 300) << "writes stopped working: " << put;
  }

  // Sends raw bytes, then reads the answer until the server closes or 5 s
  // pass. Returns the HTTP status of the first response, 0 when there was
  // none (the server just closed).
  int SendRaw(const std::string& bytes, std::string* response = nullptr) {
    RawConnection c;
    EXPECT_TRUE(c.Connect(server()->port()));
    c.SendAll(bytes);  // may fail when the server closes early; that is fine
    std::string got;
    c.ReadUntilClosed(std::chrono::seconds(5), &got);
    if (response != nullptr) *response = got;
    if (got.rfind("HTTP/1.", 0) != 0 || got.size() < 12) return 0;
    return std::atoi(got.c_str() + 9);
  }

  static void ExpectRejected(int status, const std::string& what) {
    EXPECT_TRUE(status == 0 || (status >= 400 && status < 500))
        << what << ": expected a 4xx or a closed connection, got " << status;
  }
};

TEST_F(HttpRobustnessTest, MalformedRequestLines) {
  for (const std::string& req :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET / FOO/1.1\r\n\r\n"), std::string("GET / HTTP/1.1 extra\r\n\r\n"), std::string("GET /healthz HTTP/1.1\r\nHost\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS hello
        std::string("GET /healthz HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("POST /v1/txn HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
        std::string("POST /v1/txn HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string(1000, '\0')}) {
    ExpectRejected(SendRaw(req), "request " + std::to_string(req.size()) + " bytes");
  }
}

TEST_F(HttpRobustnessTest, HugeHeader) {
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                          std::string(1 << 20, 'a') + "\r\n\r\n";
  ExpectRejected(SendRaw(req), "1 MiB header");
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 20000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  ExpectRejected(SendRaw(many), "20000 headers");
}

TEST_F(HttpRobustnessTest, TenMegabyteBody) {
  const int64_t head = Head();
  const std::string big_value = "{\"value\":\"" + std::string(10 << 20, 'x') + "\"}";
  std::string response;
  const int status =
      SendRaw("PUT /v1/kv/" + K("huge") + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
              "\r\nContent-Length: " + std::to_string(big_value.size()) +
              "\r\nConnection: close\r\n\r\n" + big_value,
              &response);
  EXPECT_TRUE(status == 0 || status == 413) << "10 MB body: " << status;
  if (status == 413) {
    EXPECT_NE(response.find("too_large"), std::string::npos) << response;
  }

  // The same through the client library.
  auto r = api().Put("/v1/kv/" + K("huge2"), big_value);
  EXPECT_TRUE(r.status == 0 || r.status == 413) << r;

  // Chunked, without a Content-Length.
  std::string chunked = "PUT /v1/kv/" + K("huge3") + " HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t off = 0; off < big_value.size(); off += 1 << 16) {
    const std::string part = big_value.substr(off, 1 << 16);
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", part.size());
    chunked += size + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  const int chunked_status = SendRaw(chunked);
  EXPECT_TRUE(chunked_status == 0 || chunked_status == 413) << "chunked: " << chunked_status;

  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().GetKey(K("huge")).status, 404);
}

TEST_F(HttpRobustnessTest, DeeplyNestedJson) {
  const int64_t head = Head();
  const std::string open(100000, '[');
  auto unclosed = api().Put("/v1/kv/" + K("deep"), "{\"value\":" + open + "}");
  EXPECT_EQ(unclosed.status, 400) << unclosed;
  auto txn = api().Post("/v1/txn", "{\"ops\":" + open);
  EXPECT_EQ(txn.status, 400) << txn;
  auto imp = api().Post("/v1/import", "{\"values\":{\"a\":" + open + "}}");
  EXPECT_EQ(imp.status, 400) << imp;
  auto objects = api().Put("/v1/kv/" + K("deep"), [] {
    std::string s = "{\"value\":";
    for (int i = 0; i < 50000; ++i) s += "{\"a\":";
    return s;
  }());
  EXPECT_EQ(objects.status, 400) << objects;
  EXPECT_EQ(Head(), head);

  // Well-formed but deep: accepted or refused, never a crash.
  const std::string balanced = open + std::string(100000, ']');
  auto deep = api().Put("/v1/kv/" + K("deep"), "{\"value\":" + balanced + "}");
  EXPECT_TRUE(deep.status == 201 || deep.status == 400 || deep.status == 413) << deep;
  if (deep.status == 201) {
    auto g = api().GetKey(K("deep"));
    EXPECT_EQ(RawAt(g.body, "value"), balanced);
  }
}

TEST_F(HttpRobustnessTest, InvalidUtf8) {
  const int64_t head = Head();
  for (const std::string& bad : {std::string("\"\xff\xfe\""), std::string("\"\xc0\xaf\""),
                                 std::string("\"a\xe2\x82\""), std::string("\"\xed\xa0\x80\"")}) {
    auto r = api().Put("/v1/kv/" + K("utf"), "{\"value\":" + bad + "}");
    EXPECT_EQ(r.status, 400) << r;
    EXPECT_EQ(r.ErrorCode(), "invalid_json") << r;
  }
  auto in_key = api().Put("/v1/kv/" + K("bad%FFkey"), R"({"value":1})");
  EXPECT_EQ(in_key.status, 400) << in_key;
  auto in_reason = api().Put("/v1/kv/" + K("utf"), "{\"value\":1,\"reason\":\"\xff\"}");
  EXPECT_EQ(in_reason.status, 400) << in_reason;
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpRobustnessTest, BadPercentEncodingAndNulInPath) {
  for (const std::string& path : {"/v1/kv/" + K("a%zz"), "/v1/kv/" + K("a%"),
                                  "/v1/kv/" + K("a%00b"), "/v1/history/" + K("%G1")}) {
    auto r = api().Get(path);
    EXPECT_EQ(r.status, 400) << path << ": " << r;
  }
}

TEST_F(HttpRobustnessTest, SlowAndAbandonedClientsDoNotBlockOthers) {
  // Half a request line, held open.
  RawConnection slow;
  ASSERT_TRUE(slow.Connect(server()->port()));
  ASSERT_TRUE(slow.SendAll("GET /healthz HTTP/1.1\r\nHo"));
  // Headers done, body promised but never sent.
  RawConnection no_body;
  ASSERT_TRUE(no_body.Connect(server()->port()));
  ASSERT_TRUE(no_body.SendAll("PUT /v1/kv/" + K("nobody") +
                              " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: 100\r\n\r\n{\"value\":"));
  // Many idle connections.
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<RawConnection>());
    ASSERT_TRUE(idle.back()->Connect(server()->port()));
  }
  Api other(server()->url(), std::chrono::seconds(3));
  auto t0 = std::chrono::steady_clock::now();
  auto h = other.Get("/healthz");
  EXPECT_EQ(h.status, 200) << h;
  auto w = other.Set(K("meanwhile"), "1");
  EXPECT_EQ(w.status, 201) << w;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(2000));
  // Abandon the half body: nothing may be written.
  no_body.Close();
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(api().GetKey(K("nobody")).status, 404);
}

TEST_F(HttpRobustnessTest, PipelinedRequestsAreAnsweredInOrder) {
  std::string req;
  for (int i = 0; i < 3; ++i) {
    req += "GET /v1/kv/" + K("p" + std::to_string(i)) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  ASSERT_EQ(api().Set(K("p1"), "1").status, 201);
  RawConnection c;
  ASSERT_TRUE(c.Connect(server()->port()));
  ASSERT_TRUE(c.SendAll(req + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string got;
  c.ReadUntilClosed(std::chrono::seconds(5), &got);
  std::vector<int> statuses;
  for (size_t p = got.find("HTTP/1.1 "); p != std::string::npos; p = got.find("HTTP/1.1 ", p + 1)) {
    statuses.push_back(std::atoi(got.c_str() + p + 9));
  }
  EXPECT_EQ(statuses, (std::vector<int>{404, 200, 404, 200})) << got;
}

TEST_F(HttpRobustnessTest, ConnectionDroppedMidRequest) {
  const int64_t head = Head();
  for (int i = 0; i < 20; ++i) {
    RawConnection c;
    ASSERT_TRUE(c.Connect(server()->port()));
    const std::string body = R"({"value":)" + std::to_string(i) + "}";
    std::string req = "PUT /v1/kv/" + K("drop") + " HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    c.SendAll(req.substr(0, req.size() * static_cast<size_t>(i) / 20));
    c.Close();
  }
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(Head(), head);
}

}  // namespace
}  // namespace chronoconf::test
