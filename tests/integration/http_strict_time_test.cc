// Issue 7 item 4: RFC 3339 exactly, on every time parameter.
#include "support/http_test_util.h"

namespace chronoconf::test {
namespace {

class HttpStrictTimeTest : public ServerTest {};

TEST_F(HttpStrictTimeTest, RefusesWhatIsNotRfc3339) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  for (const char* bad : {"2026-02-30T00:00:00Z", "2026-11-26T14:00:00+25:00", "2026-11-26",
                          "2026-11-26T14:00:00", "2026-11-26T14:00:00+02:60"}) {
    for (const std::string& target :
         {"/v1/kv/" + K("a") + "?at_time=" + Q(bad), "/v1/kv?at_time=" + Q(bad),
          std::string("/v1/events?since=") + Q(bad), std::string("/v1/diff?from_time=") + Q(bad),
          std::string("/v1/export?at_time=") + Q(bad)}) {
      auto r = api().Get(target);
      EXPECT_EQ(r.status, 400) << target << " " << r;
      EXPECT_EQ(r.ErrorCode(), "invalid_request") << target << " " << r;
    }
  }
}

TEST_F(HttpStrictTimeTest, AcceptsManyFractionDigitsAndLowerCase) {
  ASSERT_EQ(api().Set(K("b"), "1").status, 201);
  for (const char* good : {"2999-01-01T00:00:00.1234567891Z", "2999-01-01t00:00:00z",
                           "2999-01-01T00:00:00.5+23:59"}) {
    auto r = api().GetKey(K("b"), std::string("at_time=") + Q(good));
    EXPECT_EQ(r.status, 200) << good << " " << r;
  }
  // Truncated, not rounded: .9999999 s before the commit's own microsecond
  // does not reach it.
  auto entry = api().GetKey(K("b"));
  const int64_t at = TimeMicros(entry.json["modified_at"].get<std::string>());
  std::string just_before = FormatMicros(at - 1);
  just_before.insert(just_before.size() - 1, "9999");  // …(µs-1).xxxxxx9999Z
  EXPECT_EQ(api().GetKey(K("b"), "at_time=" + Q(just_before)).status, 404);
}

}  // namespace
}  // namespace chronoconf::test
