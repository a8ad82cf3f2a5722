#include "app/verify.h"

#include <gtest/gtest.h>

#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

CommitData Set(std::string key, std::string value, int64_t version,
               std::optional<std::string> previous = std::nullopt) {
  CommitData c;
  c.events.push_back({EventType::kConfigSet, std::move(key), version, std::move(value),
                      std::move(previous)});
  return c;
}

TEST(VerifyTest, AHealthyStorePasses) {
  MemoryEventStore store;
  ASSERT_TRUE(store.Append({Set("a", "1", 1), Set("a", "2", 2, "1")}));
  VerifyReport report;
  Status s = VerifyStore(store, &report, nullptr);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(report.commits, 2);
  EXPECT_EQ(report.keys, 1);
}

// Stores written before texts were checked may hold bytes no strict reader
// takes; verify names them.
TEST(VerifyTest, ReportsTextThatIsNotUtf8) {
  MemoryEventStore store;
  CommitData c = Set("a", "1", 1);
  c.meta.reason = "\xff\xfe";
  ASSERT_TRUE(store.Append({c}));
  VerifyReport report;
  Status s = VerifyStore(store, &report, nullptr);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("not valid UTF-8"), std::string::npos) << s.message();
}

TEST(VerifyTest, ReportsAValueThatIsNotJson) {
  MemoryEventStore store;
  ASSERT_TRUE(store.Append({Set("a", "{oops", 1)}));
  VerifyReport report;
  Status s = VerifyStore(store, &report, nullptr);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("not valid JSON"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace chronoconf
