// The read model's fold: commits must arrive in revision order, without a gap.
#include "projection/projection.h"

#include <gtest/gtest.h>

#include <atomic>

namespace chronoconf {
namespace {

RecordedCommit SetCommit(int64_t revision, const std::string& key, int64_t version,
                         const std::string& value) {
  RecordedCommit c;
  c.revision = revision;
  c.timestamp_us = revision * 1000;
  c.meta.actor = "test";
  c.events.push_back({EventType::kConfigSet, key, version, value, std::nullopt});
  c.hash = std::string(64, static_cast<char>('a' + revision % 6));
  return c;
}

TEST(ProjectionTest, AppliesCommitsInOrderAndPublishesEachHead) {
  Projection p;
  std::vector<int64_t> published;
  uint64_t id = p.feed().Subscribe([&](int64_t head) { published.push_back(head); });
  ASSERT_TRUE(p.Apply(SetCommit(1, "a", 1, "1")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(2, "a", 2, "2")).ok());
  p.feed().Unsubscribe(id);
  EXPECT_EQ(p.head(), 2);
  EXPECT_EQ(p.State("a").value, "2");
  EXPECT_EQ(published, (std::vector<int64_t>{1, 2}));
}

TEST(ProjectionTest, RefusesAGapAndChangesNothing) {
  Projection p;
  ASSERT_TRUE(p.Apply(SetCommit(1, "a", 1, "1")).ok());
  std::atomic<int> published{0};
  uint64_t id = p.feed().Subscribe([&](int64_t) { ++published; });
  // Revision 3 at head 1: revision 2 is missing. Indexing commits by
  // revision would put 3 where 2 belongs.
  Status s = p.Apply(SetCommit(3, "b", 1, "3"));
  p.feed().Unsubscribe(id);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_EQ(p.head(), 1);
  EXPECT_FALSE(p.State("b").exists);
  EXPECT_EQ(p.Commit(2), nullptr);
  EXPECT_EQ(p.Stats().events, 1);
  EXPECT_EQ(published.load(), 0);
  // The missing commit, then the one after it, go in.
  ASSERT_TRUE(p.Apply(SetCommit(2, "a", 2, "2")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(3, "b", 1, "3")).ok());
  EXPECT_EQ(p.head(), 3);
  EXPECT_EQ(p.Commit(3)->revision, 3);
}

TEST(ProjectionTest, IgnoresRevisionsAtOrBelowTheHeadAsDuplicates) {
  Projection p;
  ASSERT_TRUE(p.Apply(SetCommit(1, "a", 1, "1")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(2, "a", 2, "2")).ok());
  int published = 0;
  uint64_t id = p.feed().Subscribe([&](int64_t) { ++published; });
  EXPECT_TRUE(p.Apply(SetCommit(2, "a", 2, "other")).ok());
  EXPECT_TRUE(p.Apply(SetCommit(1, "a", 1, "other")).ok());
  p.feed().Unsubscribe(id);
  EXPECT_EQ(published, 0);
  EXPECT_EQ(p.head(), 2);
  EXPECT_EQ(p.State("a").value, "2");
  EXPECT_EQ(p.Stats().events, 2);
}

TEST(ProjectionTest, TheFirstCommitMustBeRevisionOne) {
  Projection p;
  EXPECT_EQ(p.Apply(SetCommit(2, "a", 1, "1")).code(), Code::kCorruption);
  EXPECT_EQ(p.head(), 0);
}

}  // namespace
}  // namespace chronoconf
