#include "domain/system_stream.h"

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

// Every system stream starts with the mark, so that read models keep it out
// of key listings and watches, and its id reads back.
TEST(SystemStreamTest, LeaseAndChangeStreamsAreSystemStreams) {
  const std::string change = ChangeStream(12);
  EXPECT_EQ(change, std::string("\x01") + "change/12");
  EXPECT_TRUE(IsSystemStream(change));
  EXPECT_EQ(ChangeIdOf(change), 12);
  const std::string lease = LeaseStream(7);
  EXPECT_EQ(lease, std::string("\x01") + "lease/7");
  EXPECT_TRUE(IsSystemStream(lease));
  EXPECT_EQ(LeaseIdOf(lease), 7);
  EXPECT_EQ(ChangeIdOf(lease), std::nullopt);
  EXPECT_EQ(ChangeIdOf("change/12"), std::nullopt);  // a config key, not the stream
  EXPECT_TRUE(IsSystemStream(kSchemasStream));
  EXPECT_TRUE(IsSystemStream(kPoliciesStream));
}

}  // namespace
}  // namespace chronoconf
