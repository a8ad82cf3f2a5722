// Access log (SPEC §4, issue 7 item 1): one line per request with method,
// route, status, latency, bytes, request id and actor; JSON lines with
// --log-format json; never a token or a value.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

constexpr std::string_view kToken = "s3cret-token-5f1c0ffee";

// The lines of the server's log that hold `needle`, after waiting briefly
// for them to be flushed.
std::vector<std::string> LinesWith(const ServerProcess& server, std::string_view needle,
                                   size_t at_least = 1) {
  std::vector<std::string> found;
  for (int attempt = 0; attempt < 50; ++attempt) {
    found.clear();
    std::istringstream in(server.Log());
    for (std::string line; std::getline(in, line);) {
      if (line.find(needle) != std::string::npos) found.push_back(line);
    }
    if (found.size() >= at_least) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return found;
}

std::string AuthFile(const TempDir& dir) {
  std::string path = dir.File("auth.json");
  std::ofstream(path) << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kToken)
                      << R"(","role":"admin"}]})";
  return path;
}

TEST(AccessLogTest, JsonLinesParseAndCarryTheRequest) {
  TempDir dir;
  ServerProcess server("memory:", {"--log-level", "info", "--log-format", "json",
                                   "--auth-file", AuthFile(dir)});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  const std::string auth = "Bearer " + std::string(kToken);
  auto put = api.Put("/v1/kv/app/secret_value", R"({"value":"v4lu3-n0t-in-logs"})",
                     {{"Content-Type", "application/json"},
                      {"Authorization", auth},
                      {"X-Request-Id", "req-json-put-1"}});
  ASSERT_EQ(put.status, 201) << put;
  auto get = api.Get("/v1/kv/app/secret_value",
                     {{"Authorization", auth}, {"X-Request-Id", "req-json-get-2"}});
  ASSERT_EQ(get.status, 200) << get;
  auto denied = api.Get("/v1/kv/app/secret_value", {{"X-Request-Id", "req-json-401"}});
  ASSERT_EQ(denied.status, 401) << denied;

  auto lines = LinesWith(server, "req-json-get-2");
  ASSERT_EQ(lines.size(), 1u) << server.Log();
  auto line = json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << lines[0];
  EXPECT_EQ(line["msg"], "access");
  EXPECT_EQ(line["level"], "info");
  EXPECT_TRUE(IsTimestamp(line["ts"].get<std::string>())) << lines[0];
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["route"], "/v1/kv/{key}");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["actor"], "alice");
  EXPECT_EQ(line["request_id"], "req-json-get-2");
  EXPECT_EQ(line["bytes"].get<size_t>(), get.body.size());
  EXPECT_GE(line["latency_ms"].get<double>(), 0.0);

  auto put_lines = LinesWith(server, "req-json-put-1");
  ASSERT_EQ(put_lines.size(), 1u);
  auto put_line = json::parse(put_lines[0], nullptr, false);
  EXPECT_EQ(put_line["method"], "PUT");
  EXPECT_EQ(put_line["status"], 201);
  auto denied_line = json::parse(LinesWith(server, "req-json-401").at(0), nullptr, false);
  EXPECT_EQ(denied_line["status"], 401);
  EXPECT_EQ(denied_line["actor"], "anonymous");

  // Every line of the log is a JSON object, including the startup lines.
  std::istringstream in(server.Log());
  int parsed = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.empty() || l.starts_with("===")) continue;  // the test harness's lines
    auto j = json::parse(l, nullptr, false);
    EXPECT_TRUE(j.is_object()) << l;
    if (j.is_object()) {
      EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << l;
      ++parsed;
    }
  }
  EXPECT_GE(parsed, 4);
  const std::string log = server.Log();
  EXPECT_EQ(log.find(kToken), std::string::npos) << "the token is in the log";
  EXPECT_EQ(log.find("v4lu3-n0t-in-logs"), std::string::npos) << "a value is in the log";
  EXPECT_EQ(log.find("secret_value"), std::string::npos) << "a key path is in the log";
}

TEST(AccessLogTest, TextLinesAndGeneratedIdsAndMalformedAndWatch) {
  ServerProcess server("memory:", {"--log-level", "info"});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  auto put = api.Put("/v1/kv/a/b", R"({"value":1})",
                     {{"Content-Type", "application/json"}, {"X-Actor", "bob"}});
  ASSERT_EQ(put.status, 201) << put;
  const std::string generated = put.Header("x-request-id");
  ASSERT_FALSE(generated.empty());
  auto lines = LinesWith(server, "request_id=" + generated);
  ASSERT_EQ(lines.size(), 1u) << server.Log();
  EXPECT_NE(lines[0].find("PUT /v1/kv/{key} 201 "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("actor=bob"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("[info]"), std::string::npos) << lines[0];

  RawConnection raw;
  ASSERT_TRUE(raw.Connect(server.port()));
  ASSERT_TRUE(raw.SendAll("\x16\x03\x01 not http\r\n\r\n"));
  raw.ReadUntilClosed(std::chrono::seconds(5));
  auto malformed = LinesWith(server, " malformed 400 ");
  ASSERT_EQ(malformed.size(), 1u) << server.Log();
  EXPECT_NE(malformed[0].find("error=\"malformed HTTP"), std::string::npos) << malformed[0];

  WatchStream watch;
  ASSERT_TRUE(watch.Open(server.port(), "/v1/watch?from_revision=0",
                         {{"X-Request-Id", "req-watch-7"}}));
  ASSERT_EQ(watch.status(), 200);
  auto watch_lines = LinesWith(server, "request_id=req-watch-7");
  ASSERT_EQ(watch_lines.size(), 1u) << server.Log();
  EXPECT_NE(watch_lines[0].find("GET /v1/watch 200 "), std::string::npos) << watch_lines[0];
}

// Access lines are batched into one write(2) when stdout is not a terminal
// (issue 14 item 5): each still reaches the log within the flush interval
// (1 s) with nothing else logged, and none is lost at shutdown.
TEST(AccessLogTest, BatchedLinesAreWrittenInTimeAndNoneIsLostAtShutdown) {
  ServerProcess server("memory:", {"--log-level", "info"});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  ASSERT_EQ(api.Get("/v1/status", {{"X-Request-Id", "req-alone"}}).status, 200);
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_EQ(LinesWith(server, "request_id=req-alone").size(), 1u) << server.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(2500));

  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(api.Get("/v1/status", {{"X-Request-Id", "req-bulk-" + std::to_string(i)}}).status,
              200);
  }
  ASSERT_TRUE(server.Stop());  // SIGTERM: whatever is buffered is written
  std::istringstream in(server.Log());
  int found = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("request_id=req-bulk-") != std::string::npos) ++found;
  }
  EXPECT_EQ(found, kRequests) << server.Log();
}

TEST(AccessLogTest, OffAtWarnAndBadFormatRefused) {
  ServerProcess server("memory:", {"--log-level", "warn"});
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  ASSERT_EQ(api.Get("/v1/status", {{"X-Request-Id", "req-quiet"}}).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(server.Log().find("req-quiet"), std::string::npos) << server.Log();

  ServerProcess bad("memory:", {"--log-format", "xml"});
  EXPECT_FALSE(bad.Start());
  EXPECT_NE(bad.Log().find("--log-format"), std::string::npos) << bad.Log();
}

}  // namespace
}  // namespace chronoconf::test
