// SPEC §6: a filtered page of /v1/events and a watch's catch-up skip the
// commits where none of their keys changed (the read model's key index).
// Whatever they skip, they must answer exactly what reading every commit
// would: every matching event, in order, and a cursor past the last one.
#include <gtest/gtest.h>

#include <string>

#include "client/http_client.h"
#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

TEST(HttpQuietLogTest, FilteredEventsAndWatchesAcrossLongQuietStretchesMissNothing) {
  ServerProcess server("memory:");
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  // app/ changes at three places, each after a stretch of 300 commits elsewhere.
  int n = 0;
  for (const char* key : {"app/a", "app/b", "app/a"}) {
    for (int i = 0; i < 300; ++i) {
      ASSERT_EQ(api.Set("other/" + std::to_string(n++), "1").status / 100, 2);
    }
    ASSERT_EQ(api.Set(key, std::to_string(n)).status / 100, 2);  // a new value: a commit
  }
  for (int i = 0; i < 300; ++i) ASSERT_EQ(api.Set("other/x", std::to_string(i)).status / 100, 2);
  const int64_t head = api.Head();

  // Pages of one event: each page skips to its event, the cursor moves on.
  std::vector<json> events = api.Events(0, "prefix=app%2F", /*limit=*/1);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["key"], "app/a");
  EXPECT_EQ(events[0]["revision"], 301);
  EXPECT_EQ(events[1]["key"], "app/b");
  EXPECT_EQ(events[1]["revision"], 602);
  EXPECT_EQ(events[2]["revision"], 903);
  // Nothing after the last one: the page ends at the head, not earlier.
  ApiResponse tail = api.Get("/v1/events?prefix=app%2F&from_revision=903");
  ASSERT_EQ(tail.status, 200) << tail;
  EXPECT_TRUE(tail.json["events"].empty()) << tail;
  EXPECT_EQ(tail.json["next_from_revision"], head) << tail;

  // A watch from the start gets the same three events, then nothing else.
  client::HttpClient http(server.url());
  std::string received;
  auto status = http.Stream(
      "/v1/watch?prefix=app%2F&from_revision=0", {},
      [&](std::string_view chunk) {
        received += chunk;
        return received.find("id: 903\n") == std::string::npos;
      },
      std::chrono::seconds(10));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 200);
  EXPECT_NE(received.find("id: 301\n"), std::string::npos) << received;
  EXPECT_NE(received.find("id: 602\n"), std::string::npos) << received;
  EXPECT_NE(received.find("id: 903\n"), std::string::npos) << received;
  EXPECT_EQ(received.find("other/"), std::string::npos) << received;
}

}  // namespace
}  // namespace chronoconf::test
