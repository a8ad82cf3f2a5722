#include "domain/key_scope.h"

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

TEST(KeyScopeTest, AllContainsEverything) {
  KeyScope all;
  EXPECT_TRUE(all.Contains("a/b"));
  EXPECT_TRUE(all.Covers(""));
  EXPECT_EQ(all.Within("x/"), std::vector<std::string>{"x/"});
}

TEST(KeyScopeTest, PrefixesLimitKeysAndScans) {
  KeyScope s = KeyScope::Under({"payments/", "billing/eu/", "payments/eu/"});
  EXPECT_EQ(s.prefixes(), (std::vector<std::string>{"billing/eu/", "payments/"}));
  EXPECT_TRUE(s.Contains("payments/x"));
  EXPECT_TRUE(s.Contains("billing/eu/y"));
  EXPECT_FALSE(s.Contains("billing/us/y"));
  EXPECT_FALSE(s.Contains("payments"));
  EXPECT_TRUE(s.Covers("payments/eu/"));
  EXPECT_FALSE(s.Covers("billing/"));
  EXPECT_FALSE(s.Covers(""));
  EXPECT_EQ(s.Within(""), (std::vector<std::string>{"billing/eu/", "payments/"}));
  EXPECT_EQ(s.Within("billing/"), std::vector<std::string>{"billing/eu/"});
  EXPECT_EQ(s.Within("payments/eu/"), std::vector<std::string>{"payments/eu/"});
  EXPECT_TRUE(s.Within("other/").empty());
}

TEST(KeyScopeTest, NoPrefixesMeansNoKey) {
  KeyScope none = KeyScope::Under({});
  EXPECT_FALSE(none.Contains("a"));
  EXPECT_TRUE(none.Within("").empty());
}

TEST(EventFilterTest, NeedsBothPrefixAndScope) {
  EventFilter f{KeyScope::Under({"a/"}), "a/b"};
  EXPECT_TRUE(f.Matches("a/bc"));
  EXPECT_FALSE(f.Matches("a/c"));
  EventFilter g{KeyScope(), ""};
  EXPECT_TRUE(g.Matches("z"));
}

}  // namespace
}  // namespace chronoconf
