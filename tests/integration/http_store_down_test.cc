// 503 unavailable: the store cannot take a write, so nothing is written and
// reads go on from memory; and the watch stream's keepalive comments.
#include <gtest/gtest.h>

#include <thread>

#include "client/http_client.h"
#include "support/run_command.h"
#include "support/test_server.h"

namespace chronoconf::test {
namespace {

using client::HttpClient;

TEST(HttpStoreDownTest, AWriteTheStoreCannotTakeIs503AndWritesNothing) {
  TempDir dir;
  ServerProcess server(dir.SqliteUrl());
  ASSERT_TRUE(server.Start());
  HttpClient http(server.url());
  ASSERT_EQ(http.Request("PUT", "/v1/kv/a", R"({"value":1})")->status, 201);

  // Another process holds SQLite's write lock for longer than the server's
  // busy timeout (5 s): the append cannot happen.
  std::thread locker([&] {
    RunCommand({"sqlite3", dir.File("events.db")},
               std::string("BEGIN EXCLUSIVE;\nINSERT INTO schema_version SELECT version FROM "
                           "schema_version WHERE 0;\n.shell sleep 7\nROLLBACK;\n"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto down = http.Request("PUT", "/v1/kv/a", R"({"value":2})");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_NE(down->body.find(R"("code":"unavailable")"), std::string::npos) << down->body;
  // Reads are served from memory meanwhile.
  auto read = http.Get("/v1/kv/a");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  EXPECT_NE(read->body.find(R"("value":1)"), std::string::npos);
  locker.join();

  // Once the lock is gone, writes go through, and the failed one left nothing.
  auto up = http.Request("PUT", "/v1/kv/a", R"({"value":3})");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200) << up->body;
  EXPECT_NE(up->body.find(R"("revision":2)"), std::string::npos) << up->body;
  EXPECT_NE(up->body.find(R"("version":2)"), std::string::npos) << up->body;
  CommandResult verify = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST(HttpWatchKeepaliveTest, AQuietStreamGetsKeepaliveComments) {
  ServerProcess server("memory:", {"--watch-keepalive-ms", "200"});
  ASSERT_TRUE(server.Start());
  HttpClient http(server.url());
  std::string received;
  auto status = http.Stream(
      "/v1/watch", {},
      [&](std::string_view chunk) {
        received += chunk;
        return received.find(": keepalive\n\n") == std::string::npos;
      },
      std::chrono::seconds(5));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 200);
  EXPECT_NE(received.find(": keepalive\n\n"), std::string::npos) << received;
}

}  // namespace
}  // namespace chronoconf::test
