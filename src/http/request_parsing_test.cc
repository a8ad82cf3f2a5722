#include "http/request_parsing.h"

#include <gtest/gtest.h>

namespace chronoconf::http {
namespace {

TEST(PercentDecodeTest, DecodesNibbleByNibble) {
  EXPECT_EQ(*PercentDecode("a%2Fb%2fc", false), "a/b/c");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(*PercentDecode("%FF%fe", false), "\xff\xfe");  // bytes; text rules come later
}

TEST(PercentDecodeTest, RefusesWhatIsNotTwoHexDigits) {
  // "%-1" and "%+1" passed a signed from_chars before.
  for (const char* bad : {"%-1", "%+1", "%1", "%", "%G0", "%0G", "% 1", "a%2"}) {
    auto r = PercentDecode(bad, true);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().code(), Code::kInvalidRequest);
    }
  }
}

TEST(ParseTargetTest, RepeatedParameterIsRefused) {
  Request req;
  EXPECT_TRUE(ParseTarget("/v1/kv?prefix=a&limit=2", &req).ok());
  EXPECT_EQ(req.path, "/v1/kv");
  EXPECT_EQ(*req.Query("limit"), "2");
  Request twice;
  Status s = ParseTarget("/v1/kv?limit=1&limit=2", &twice);
  EXPECT_EQ(s.code(), Code::kInvalidRequest);
}

TEST(CheckMembersTest, UnknownAndRepeatedMembersAreRefused) {
  auto ok = json::Parse(R"({"value":1,"reason":"x"})");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(CheckMembers(*ok, {"value", "reason", "expected_version"}, "the body").ok());
  auto typo = json::Parse(R"({"value":1,"expected_verison":2})");
  Status s = CheckMembers(*typo, {"value", "expected_version"}, "the body");
  EXPECT_EQ(s.code(), Code::kInvalidRequest);
  EXPECT_NE(s.message().find("expected_verison"), std::string::npos) << s.message();
  auto twice = json::Parse(R"({"value":1,"value":2})");
  EXPECT_EQ(CheckMembers(*twice, {"value"}, "the body").code(), Code::kInvalidRequest);
}

TEST(StorableValueTest, DepthAndSizeLimits) {
  auto deep = json::Parse(std::string(101, '[') + std::string(101, ']'));
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->depth(), 101u);
  EXPECT_EQ(StorableValue(*deep, 1 << 20, "v").status().code(), Code::kInvalidRequest);
  auto ok = json::Parse(std::string(100, '[') + std::string(100, ']'));
  EXPECT_TRUE(StorableValue(*ok, 1 << 20, "v"));
  auto big = json::Parse(R"("0123456789")");
  EXPECT_EQ(StorableValue(*big, 5, "v").status().code(), Code::kTooLarge);
  auto spaced = json::Parse(R"([ 1 , {"a" : 2} ])");
  EXPECT_EQ(*StorableValue(*spaced, 100, "v"), R"([1,{"a":2}])");
  EXPECT_EQ(spaced->depth(), 2u);
}

}  // namespace
}  // namespace chronoconf::http
