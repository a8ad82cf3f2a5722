// Hostile HTTP (issue 5, part 3): what held when tried from outside, now
// kept by the suite, plus read and idle timeouts, obsolete line folding and
// slowloris at scale. Each test ends with the server still serving
// (TearDown), and nothing written that the client did not mean.
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class HttpHostileTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer("memory:", {"--read-timeout-ms", "1000", "--idle-timeout-ms", "1500"});
  }

 protected:
  void TearDown() override {
    if (server() == nullptr) return;
    Api fresh(server()->url(), seconds(5));
    EXPECT_EQ(fresh.Get("/healthz").status, 200) << "the server stopped serving:\n"
                                                 << server()->Log();
  }

  // Sends `bytes`, reads until the server closes (at most `wait`); the
  // status of the first response, 0 when there was none.
  int Send(const std::string& bytes, std::string* got = nullptr, milliseconds wait = seconds(5),
           bool* closed = nullptr) {
    RawConnection c;
    EXPECT_TRUE(c.Connect(server()->port()));
    c.SendAll(bytes);
    std::string out;
    bool was_closed = c.ReadUntilClosed(wait, &out);
    if (closed) *closed = was_closed;
    if (got) *got = out;
    if (out.rfind("HTTP/1.1 ", 0) != 0 || out.size() < 12) return 0;
    return std::atoi(out.c_str() + 9);
  }
};

TEST_F(HttpHostileTest, GarbageIsRefusedAtOnce) {
  for (const std::string& bytes :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), std::string(1000, '\0'),
        std::string("get /healthz HTTP/1.1\r\n"), std::string("{\"json\":1}\r\n\r\n")}) {
    const auto t0 = Clock::now();
    bool closed = false;
    EXPECT_EQ(Send(bytes, nullptr, seconds(5), &closed), 400);
    EXPECT_TRUE(closed);
    EXPECT_LT(Clock::now() - t0, milliseconds(900)) << "refused without waiting for a timeout";
  }
}

TEST_F(HttpHostileTest, HugeRequestLineAndTooManyHeaders) {
  EXPECT_EQ(Send("GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Send(many + "\r\n"), 400);
}

TEST_F(HttpHostileTest, ObsoleteLineFoldingIsRefused) {
  std::string got;
  EXPECT_EQ(Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n b\r\n\r\n", &got), 400) << got;
  EXPECT_NE(got.find("folding"), std::string::npos) << got;
  EXPECT_EQ(Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n\tb\r\n\r\n"), 400);
}

TEST_F(HttpHostileTest, LyingOrConflictingContentLength) {
  const int64_t head = Head();
  // Promises more than it sends: closed at the read timeout, nothing written.
  const auto t0 = Clock::now();
  bool closed = false;
  Send("PUT /v1/kv/" + K("lie") + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       "Content-Length: 100\r\n\r\n{\"value\":1}",
       nullptr, seconds(5), &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - t0, seconds(3)) << "the read timeout (1 s) must end it";
  // Promises less: the rest is not a request.
  EXPECT_EQ(Send("PUT /v1/kv/" + K("lie") + " HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 "application/json\r\nContent-Length: 2\r\n\r\n{\"value\":1}"),
            400);
  EXPECT_EQ(Send("PUT /v1/kv/" + K("lie") + " HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                 "Content-Length: 12\r\n\r\n{\"value\":1}"),
            400);
  EXPECT_EQ(Send("PUT /v1/kv/" + K("lie") + " HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
            400);
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(api().GetKey(K("lie")).status, 404);
}

TEST_F(HttpHostileTest, BadChunkSizes) {
  const int64_t head = Head();
  for (const std::string& size : std::vector<std::string>{"zz", "-5", "ffffffffffffffffffff",
                                                          "1;" + std::string(9000, 'x')}) {
    int status = Send("PUT /v1/kv/" + K("chunk") + " HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      size + "\r\n{\"value\":1}\r\n0\r\n\r\n");
    EXPECT_TRUE(status == 400 || status == 413) << "chunk size " << size.substr(0, 20) << ": "
                                                << status;
  }
  EXPECT_EQ(Head(), head);
}

TEST_F(HttpHostileTest, ATrickledRequestIsCutAtTheReadTimeout) {
  RawConnection c;
  ASSERT_TRUE(c.Connect(server()->port()));
  const auto t0 = Clock::now();
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  bool cut = false;
  for (size_t i = 0; i < 40 && !cut; ++i) {
    cut = !c.SendAll(std::string(1, request[i % request.size()]));
    std::string got;
    if (c.ReadSome(&got, milliseconds(100)) == RawConnection::ReadStatus::kClosed) cut = true;
  }
  EXPECT_TRUE(cut) << "a request trickling in for 4 s must be cut after 1 s";
  EXPECT_LT(Clock::now() - t0, seconds(3));
}

TEST_F(HttpHostileTest, AnIdleKeepAliveConnectionIsClosed) {
  RawConnection c;
  ASSERT_TRUE(c.Connect(server()->port()));
  ASSERT_TRUE(c.SendAll("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  ASSERT_EQ(c.ReadSome(&got, seconds(2)), RawConnection::ReadStatus::kData);
  const auto t0 = Clock::now();
  EXPECT_TRUE(c.ReadUntilClosed(seconds(5)));
  const auto idle = Clock::now() - t0;
  EXPECT_GT(idle, milliseconds(1000)) << "closed before the idle timeout";
  EXPECT_LT(idle, milliseconds(3500)) << "kept past the idle timeout (1.5 s)";
}

TEST_F(HttpHostileTest, TwoThousandSlowlorisConnections) {
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 2000; ++i) {
    auto c = std::make_unique<RawConnection>();
    if (!c->Connect(server()->port())) break;
    c->SendAll("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Never: ");
    slow.push_back(std::move(c));
  }
  EXPECT_EQ(slow.size(), 2000u);
  // Meanwhile, a well-behaved client is served.
  Api fresh(server()->url(), seconds(5));
  auto h = fresh.Get("/healthz");
  EXPECT_EQ(h.status, 200) << h;
  // And every slow one is cut at the read timeout.
  std::this_thread::sleep_for(milliseconds(1500));
  size_t closed = 0, open = 0;
  for (auto& c : slow) {
    std::string got;
    auto r = c->ReadSome(&got, milliseconds(500));
    if (r == RawConnection::ReadStatus::kClosed) ++closed;
    if (r == RawConnection::ReadStatus::kTimeout && ++open == 3) break;  // bounded wait
  }
  EXPECT_EQ(closed, slow.size());
}

}  // namespace
}  // namespace chronoconf::test
