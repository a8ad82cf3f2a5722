#include "http/request_id.h"

#include <gtest/gtest.h>

#include <set>

namespace chronoconf::http {
namespace {

TEST(RequestIdTest, IsThirtyTwoLowercaseHexDigitsAndNewEachTime) {
  std::set<std::string> seen;
  std::set<char> digits;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 32u);
    for (char c : id) {
      ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
      digits.insert(c);
    }
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(digits.size(), 16u);  // every digit turns up: the bits are all used
}

}  // namespace
}  // namespace chronoconf::http
