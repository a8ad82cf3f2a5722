#include "cli/friendly_time.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace chronoconf::cli {
namespace {

const int64_t kNow = *ParseRfc3339Micros("2026-11-30T12:00:00Z");

std::string To(std::string_view s) {
  auto r = ToRfc3339(s, kNow);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? *r : "";
}

TEST(FriendlyTimeTest, RelativeForms) {
  EXPECT_EQ(To("90s ago"), "2026-11-30T11:58:30.000000Z");
  EXPECT_EQ(To("15m ago"), "2026-11-30T11:45:00.000000Z");
  EXPECT_EQ(To("2h ago"), "2026-11-30T10:00:00.000000Z");
  EXPECT_EQ(To("3d ago"), "2026-11-27T12:00:00.000000Z");
  EXPECT_EQ(To("1w ago"), "2026-11-23T12:00:00.000000Z");
  EXPECT_EQ(To("2 hours ago"), "2026-11-30T10:00:00.000000Z");
  EXPECT_EQ(To("0s ago"), "2026-11-30T12:00:00.000000Z");
}

TEST(FriendlyTimeTest, DatesAndRfc3339) {
  EXPECT_EQ(To("2026-11-26"), "2026-11-26T00:00:00.000000Z");
  EXPECT_EQ(To("2026-11-26T14:00:00+01:00"), "2026-11-26T13:00:00.000000Z");
  EXPECT_EQ(To("2026-11-26T14:00:00.5Z"), "2026-11-26T14:00:00.500000Z");
}

TEST(FriendlyTimeTest, RefusesWithTheFormsNamed) {
  for (const char* s : {"yesterday", "2026-02-30", "ago", " ago", "5x ago", "-5s ago",
                        "5s", "99999999999999d ago", "2026-11-26T25:00:00Z", ""}) {
    auto r = ToRfc3339(s, kNow);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(r.status().message().find("90s ago"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace chronoconf::cli
