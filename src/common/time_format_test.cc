#include "common/time_format.h"

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

int64_t Parse(std::string_view s) {
  auto r = ParseRfc3339Micros(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? *r : -1;
}

void ExpectRefused(std::string_view s) {
  auto r = ParseRfc3339Micros(s);
  ASSERT_FALSE(r.ok()) << s << " was accepted";
  EXPECT_EQ(r.status().code(), Code::kInvalidRequest) << s;
}

TEST(TimeFormatTest, RoundTripsItsOwnFormat) {
  const int64_t t = 1795701600123456;  // 2026-11-26T14:00:00.123456Z
  EXPECT_EQ(FormatRfc3339Micros(t), "2026-11-26T14:00:00.123456Z");
  EXPECT_EQ(Parse(FormatRfc3339Micros(t)), t);
}

TEST(TimeFormatTest, FormatsEveryEraTheParserReadsBack) {
  // Before 1970, leap days, the last microsecond of a year, and past 9999.
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{-86400000000} - 1, int64_t{951782400000000},
                    int64_t{1735689599999999}, int64_t{253402300799999999}}) {
    const std::string s = FormatRfc3339Micros(t);
    EXPECT_EQ(s.size(), 27u) << s;
    EXPECT_EQ(Parse(s), t) << s;
  }
  EXPECT_EQ(FormatRfc3339Micros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339Micros(951782400000000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339Micros(253402300800000000), "10000-01-01T00:00:00.000000Z");
}

TEST(TimeFormatTest, AcceptsOffsetsAndLowerCase) {
  const int64_t utc = Parse("2026-11-26T14:00:00Z");
  EXPECT_EQ(Parse("2026-11-26t14:00:00z"), utc);
  EXPECT_EQ(Parse("2026-11-26T16:30:00+02:30"), utc);
  EXPECT_EQ(Parse("2026-11-26T13:00:00-01:00"), utc);
  EXPECT_EQ(Parse("2026-11-27T13:59:00+23:59"), utc);
  EXPECT_EQ(Parse("2026-11-26T14:00:00-00:00"), utc);
}

TEST(TimeFormatTest, AnyNumberOfFractionDigitsTruncatedToMicros) {
  const int64_t base = Parse("2026-11-26T14:00:00Z");
  EXPECT_EQ(Parse("2026-11-26T14:00:00.5Z"), base + 500000);
  EXPECT_EQ(Parse("2026-11-26T14:00:00.123456789Z"), base + 123456);
  EXPECT_EQ(Parse("2026-11-26T14:00:00.1234567899Z"), base + 123456);  // 10 digits
  EXPECT_EQ(Parse("2026-11-26T14:00:00.999999999999999999999Z"), base + 999999);
}

TEST(TimeFormatTest, LeapDaysAreRealDays) {
  Parse("2024-02-29T00:00:00Z");
  Parse("2000-02-29T00:00:00Z");
  ExpectRefused("2026-02-29T00:00:00Z");
  ExpectRefused("1900-02-29T00:00:00Z");
}

TEST(TimeFormatTest, RefusesWhatIsNotRfc3339) {
  for (const char* s : {"2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
                        "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
                        "2026-11-26T14:00:00+25:00", "2026-11-26T14:00:00+24:00",
                        "2026-11-26T14:00:00+02:60", "2026-11-26", "2026-11-26T14:00:00",
                        "2026-11-26T14:00Z", "2026-11-26 14:00:00Z", "2026-11-26T24:00:00Z",
                        "2026-11-26T14:60:00Z", "2026-11-26T14:00:61Z", "2026-11-26T14:00:00.Z",
                        "2026-11-26T14:00:00Zjunk", "2026-11-26T14:00:00+0200", "", "yesterday",
                        "26-11-26T14:00:00Z"}) {
    ExpectRefused(s);
  }
}

}  // namespace
}  // namespace chronoconf
