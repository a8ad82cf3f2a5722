#include "cli/client_sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chronoconf::cli {
namespace {

// Feeds `chunks` and renders each event as "type|data|id;".
std::string Parse(const std::vector<std::string>& chunks, SseParser* parser) {
  std::string out;
  for (const auto& chunk : chunks) {
    parser->Feed(chunk,
                 [&](const SseEvent& e) { out += e.type + "|" + e.data + "|" + e.id + ";"; });
  }
  return out;
}

TEST(SseParserTest, EventsWithTypeDataAndId) {
  SseParser p;
  EXPECT_EQ(Parse({"event: ConfigSet\ndata: {\"revision\":1}\nid: 1\n\n"
                   "event: ConfigDeleted\ndata: {\"revision\":2}\n\n"},
                  &p),
            "ConfigSet|{\"revision\":1}|1;ConfigDeleted|{\"revision\":2}|1;");
  EXPECT_EQ(p.last_id(), "1");
}

TEST(SseParserTest, SplitAnywhereAndCrLf) {
  const std::string stream =
      "event: ConfigSet\r\ndata: {\"a\":1}\r\nid: 7\r\n\r\n: keepalive\r\n\r\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    EXPECT_EQ(Parse({stream.substr(0, cut), stream.substr(cut)}, &p), "ConfigSet|{\"a\":1}|7;")
        << "cut at " << cut;
  }
  SseParser bytewise;
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  EXPECT_EQ(Parse(bytes, &bytewise), "ConfigSet|{\"a\":1}|7;");
}

TEST(SseParserTest, CommentsAndUnknownFieldsIgnored) {
  SseParser p;
  EXPECT_EQ(Parse({": keepalive\n\nretry: 10\nfoo: bar\ndata:x\n\n"}, &p), "message|x|;");
}

TEST(SseParserTest, MultipleDataLinesAreJoined) {
  SseParser p;
  EXPECT_EQ(Parse({"data: a\ndata: b\n\n"}, &p), "message|a\nb|;");
}

TEST(SseParserTest, NoDispatchWithoutData) {
  SseParser p;
  EXPECT_EQ(Parse({"event: ConfigSet\nid: 3\n\n"}, &p), "");
  EXPECT_EQ(p.last_id(), "3");
  // The type does not leak into the next event.
  EXPECT_EQ(Parse({"data: y\n\n"}, &p), "message|y|3;");
}

TEST(SseParserTest, IncompleteEventIsNotDispatched) {
  SseParser p;
  EXPECT_EQ(Parse({"event: ConfigSet\ndata: {}\n"}, &p), "");
  EXPECT_EQ(Parse({"\n"}, &p), "ConfigSet|{}|;");
}

TEST(SseParserTest, ErrorBodyYieldsNoEvents) {
  SseParser p;
  EXPECT_EQ(Parse({R"({"error":{"code":"unauthorized","message":"no token"}})"}, &p), "");
}

}  // namespace
}  // namespace chronoconf::cli
