// Issue 13 item 10: a min_revision wait still open when SIGTERM's drain ends
// left its listener in the change feed, and ~Projection then destroyed a
// timer whose io_context was gone (a use-after-free that ASan reports). The
// process must exit 0, cleanly, whatever its requests were waiting for.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ShutdownWaitTest, SigtermDuringAMinRevisionWaitExitsCleanly) {
  for (const char* target : {"/v1/kv/k", "/v1/kv"}) {
    ServerProcess server("memory:", {"--drain-timeout-ms", "200"});
    ASSERT_TRUE(server.Start());
    Api api(server.url());
    ASSERT_EQ(api.Set("k", "1").status, 201);
    const int64_t head = api.Head();
    RawConnection waiter;
    ASSERT_TRUE(waiter.Connect(server.port()));
    ASSERT_TRUE(waiter.SendAll(std::string("GET ") + target + "?min_revision=" +
                               std::to_string(head + 1) +
                               "&timeout_ms=30000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    std::this_thread::sleep_for(milliseconds(300));  // the request is waiting now
    ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
    const auto sent = std::chrono::steady_clock::now();
    while (server.running() && std::chrono::steady_clock::now() - sent < seconds(10)) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    ASSERT_FALSE(server.running()) << "the wait held the shutdown:\n" << server.Log();
    const int status = server.last_wait_status();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << target << ": exit status " << status << "\n" << server.Log();
    EXPECT_EQ(server.Log().find("Sanitizer"), std::string::npos) << server.Log();
  }
}

// SPEC §4: on SIGTERM the server answers the requests in flight. A wait for
// a revision that will not come is answered 503 at once, not cut off when
// the drain gives up on it (10 s by default) with no answer at all.
TEST(ShutdownWaitTest, AMinRevisionWaitIsAnswered503WhenShutdownBegins) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  ASSERT_EQ(api.Set("k", "1").status, 201);
  RawConnection waiter;
  ASSERT_TRUE(waiter.Connect(server.port()));
  ASSERT_TRUE(waiter.SendAll("GET /v1/kv/k?min_revision=" + std::to_string(api.Head() + 100) +
                             "&timeout_ms=600000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(300));  // the request is waiting now
  ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
  const auto sent = std::chrono::steady_clock::now();
  std::string answer;
  ASSERT_TRUE(waiter.ReadUntilClosed(seconds(5), &answer)) << server.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, seconds(3));
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("shutting down"), std::string::npos) << answer;
  while (server.running() && std::chrono::steady_clock::now() - sent < seconds(10)) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_FALSE(server.running());
}

}  // namespace
}  // namespace chronoconf::test
