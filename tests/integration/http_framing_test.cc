// HTTP framing (issue 5, part 1 defect 2, and part 3): RFC 9112 says how a
// message's end is found. Anything else is refused with 400 and the
// connection closed, so no body can be run as a second request (request
// smuggling).
#include <string>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpFramingTest : public ServerTest {
 protected:
  // Sends `bytes` on a fresh connection and reads until the server closes
  // it (at most 5 s). Returns everything the server sent.
  std::string Exchange(const std::string& bytes, bool* closed = nullptr) {
    RawConnection c;
    EXPECT_TRUE(c.Connect(server()->port()));
    c.SendAll(bytes);
    std::string got;
    bool was_closed = c.ReadUntilClosed(std::chrono::seconds(5), &got);
    if (closed) *closed = was_closed;
    return got;
  }

  static int Responses(const std::string& got) {
    int n = 0;
    for (size_t p = got.find("HTTP/1.1 "); p != std::string::npos; p = got.find("HTTP/1.1 ", p + 1)) {
      ++n;
    }
    return n;
  }

  // A PUT of `key`, to hide inside another request's body.
  std::string SmuggledPut(const std::string& key) {
    const std::string body = R"({"value":"smuggled"})";
    return "PUT /v1/kv/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
};

TEST_F(HttpFramingTest, UnsupportedTransferEncodingIsRefusedAndNothingIsSmuggled) {
  const int64_t head = Head();
  int n = 0;
  for (std::string te : {"gzip", "identity", "chunked, gzip", "gzip, chunked, gzip",
                                "chunked, chunked", "x"}) {
    const std::string key = K("s" + std::to_string(n++));
    const std::string inner = SmuggledPut(key);
    bool closed = false;
    std::string got = Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                                   "\r\n\r\n" + inner,
                               &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << "Transfer-Encoding: " << te << ": " << got;
    EXPECT_EQ(Responses(got), 1) << "exactly one answer, to the outer request: " << got;
    EXPECT_TRUE(closed) << "the connection must be closed after a framing error";
    EXPECT_EQ(api().GetKey(key).status, 404) << "the hidden PUT must not run (TE " << te << ")";
  }
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpFramingTest, TransferEncodingWithContentLengthIsRefused) {
  const std::string key = K("both");
  const std::string inner = SmuggledPut(key);
  bool closed = false;
  std::string got = Exchange("POST /v1/txn HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + inner,
                             &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  EXPECT_EQ(Responses(got), 1) << got;
  EXPECT_TRUE(closed);
  EXPECT_EQ(api().GetKey(key).status, 404);
}

TEST_F(HttpFramingTest, TransferEncodingInHttp10IsRefused) {
  std::string got = Exchange("POST /v1/txn HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(got.find("400"), 9u) << got;
}

TEST_F(HttpFramingTest, ChunkedAloneStillWorks) {
  const std::string body = R"({"value":42})";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  std::string got = Exchange("PUT /v1/kv/" + K("chunked") + " HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nTransfer-Encoding: Chunked\r\n"
                             "Connection: close\r\n\r\n" + std::string(size) + "\r\n" + body +
                             "\r\n0\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 201", 0), 0u) << got;
  EXPECT_EQ(RawAt(api().GetKey(K("chunked")).body, "value"), "42");
}

TEST_F(HttpFramingTest, Http11WithoutHostOrWithTwoIsRefused) {
  bool closed = false;
  std::string got = Exchange("GET /healthz HTTP/1.1\r\n\r\n", &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  EXPECT_TRUE(closed);
  got = Exchange("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  // HTTP/1.0 has no Host requirement.
  got = Exchange("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_NE(got.find(" 200 "), std::string::npos) << got;
}

TEST_F(HttpFramingTest, ExpectContinueIsAnswered) {
  RawConnection c;
  ASSERT_TRUE(c.Connect(server()->port()));
  const std::string body = R"({"value":1})";
  ASSERT_TRUE(c.SendAll("PUT /v1/kv/" + K("expect") + " HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                        "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n"));
  std::string got;
  ASSERT_EQ(c.ReadSome(&got, std::chrono::seconds(5)), RawConnection::ReadStatus::kData);
  EXPECT_EQ(got.rfind("HTTP/1.1 100 Continue", 0), 0u) << got;
  ASSERT_TRUE(c.SendAll(body));
  c.ReadUntilClosed(std::chrono::seconds(5), &got);
  EXPECT_NE(got.find("HTTP/1.1 201"), std::string::npos) << got;
}

TEST_F(HttpFramingTest, PipelinedRequestsAreAnsweredInOrder) {
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  many += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string got = Exchange(many);
  EXPECT_EQ(Responses(got), 1001);
}

}  // namespace
}  // namespace chronoconf::test
