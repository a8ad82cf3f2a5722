// The CLI's HTTP client and a kept-alive connection that dies (issue 13 item
// 16): a request whose answer was lost is sent again only if it reads (GET,
// HEAD) or never left; a write may have been applied, so repeating it would
// report a false 404 or 409.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "client/http_client.h"

namespace chronoconf::test {
namespace {

// A server on loopback that answers the first request of its first
// connection (keep-alive), then reads the second and closes without
// answering; every later connection gets its requests answered. Counts the
// requests that name `method`.
class DyingServer {
 public:
  explicit DyingServer(std::string method) : method_(std::move(method)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~DyingServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int seen() const { return seen_.load(); }

 private:
  // Reads one request's header (these tests send no body); "" on EOF.
  static std::string ReadRequest(int c) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof(buf));
      if (n <= 0) return "";
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }
  void Run() {
    for (int conn = 0; !stop_; ++conn) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      for (int n = 0;; ++n) {
        std::string req = ReadRequest(c);
        if (req.empty()) break;
        if (req.starts_with(method_ + " ")) ++seen_;
        if (conn == 0 && n == 1) break;  // dies with the answer unsent
        const std::string ok =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        if (::write(c, ok.data(), ok.size()) < 0) break;
      }
      ::close(c);
    }
  }

  std::string method_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> seen_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ClientRetryTest, AWriteWhoseAnswerWasLostIsNotSentAgain) {
  for (const char* method : {"DELETE", "POST", "PUT"}) {
    DyingServer server(method);
    client::HttpClient http("http://127.0.0.1:" + std::to_string(server.port()),
                            std::chrono::seconds(5));
    ASSERT_TRUE(http.Get("/first"));
    auto r = http.Request(method, "/v1/kv/a", std::string_view(method) == "DELETE" ? "" : "{}");
    EXPECT_FALSE(r) << method;
    if (!r) {
      EXPECT_NE(r.status().message().find("may or may not"), std::string::npos)
          << r.status().message();
    }
    EXPECT_EQ(server.seen(), 1) << method << " was sent again";
  }
}

TEST(ClientRetryTest, AReadIsSentAgainOnAFreshConnection) {
  DyingServer server("GET");
  client::HttpClient http("http://127.0.0.1:" + std::to_string(server.port()),
                          std::chrono::seconds(5));
  ASSERT_TRUE(http.Get("/first"));
  auto r = http.Get("/second");
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.seen(), 3);
}

}  // namespace
}  // namespace chronoconf::test
