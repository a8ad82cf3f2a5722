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

RecordedCommit DeleteCommit(int64_t revision, const std::string& key, int64_t version,
                            const std::string& previous) {
  RecordedCommit c = SetCommit(revision, key, version, previous);
  c.events[0] = {EventType::kConfigDeleted, key, version, std::nullopt, previous};
  return c;
}

// etcd's view of a key's life: create_revision and the life's first version
// reset when the key is deleted and written again.
TEST(ProjectionTest, CreatedVersionIsTheFirstOfTheCurrentLife) {
  Projection p;
  ASSERT_TRUE(p.Apply(SetCommit(1, "a", 1, "1")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(2, "a", 2, "2")).ok());
  ASSERT_TRUE(p.Apply(DeleteCommit(3, "a", 3, "2")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(4, "a", 4, "4")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(5, "a", 5, "5")).ok());
  auto now = p.Get("a");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->created_revision, 4);
  EXPECT_EQ(now->created_version, 4);
  EXPECT_EQ(now->version - now->created_version + 1, 2);
  auto then = p.Get("a", 2);
  ASSERT_TRUE(then);
  EXPECT_EQ(then->created_revision, 1);
  EXPECT_EQ(then->created_version, 1);
}

// A listing of the head walks the live keys only (deleted keys pile up
// with the log); it must answer what a listing of the same state through
// every key does.
TEST(ProjectionTest, AListingOfTheHeadSkipsDeletedKeysAndAgreesWithTheFullWalk) {
  Projection p;
  int64_t r = 0;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(p.Apply(SetCommit(++r, "d/" + std::to_string(100 + i), 1, "1")).ok());
  }
  for (int i = 0; i < 50; ++i) {
    if (i % 3 == 0) continue;  // a third stay
    ASSERT_TRUE(p.Apply(DeleteCommit(++r, "d/" + std::to_string(100 + i), 2, "1")).ok());
  }
  ASSERT_TRUE(p.Apply(SetCommit(++r, "d/101", 3, "again")).ok());  // back again
  ASSERT_TRUE(p.Apply(SetCommit(++r, "other", 1, "1")).ok());     // the head moves on
  const int64_t head = p.head();
  for (size_t limit : {size_t{1}, size_t{4}, size_t{100}}) {
    std::optional<std::string> after_fast = "", after_full = "";
    while (after_fast) {
      ListPage fast = p.List("d/", head, *after_fast, limit);      // the live keys
      ListPage full = p.List("d/", head - 1, *after_full, limit);  // every key, same state
      ASSERT_EQ(fast.entries.size(), full.entries.size());
      for (size_t i = 0; i < fast.entries.size(); ++i) EXPECT_EQ(*fast.entries[i], *full.entries[i]);
      EXPECT_EQ(fast.next, full.next);
      after_fast = fast.next;
      after_full = full.next;
    }
  }
  int64_t fast_count = 0, full_count = 0;
  auto fast = p.Range("d/", "d0", head, 5, &fast_count);
  auto full = p.Range("d/", "d0", head - 1, 5, &full_count);
  EXPECT_EQ(fast_count, 18);  // 17 kept, and d/101 back
  EXPECT_EQ(fast_count, full_count);
  ASSERT_EQ(fast.size(), full.size());
  for (size_t i = 0; i < fast.size(); ++i) EXPECT_EQ(fast[i].key, full[i].key);
  EXPECT_EQ(p.Stats().keys, 19);
}

// A catch-up skips, through the key index, the commits that touch none of
// its keys: QuietUntil is the last revision before one of them changes.
TEST(ProjectionTest, QuietUntilIsTheRevisionBeforeAWatchedKeyChanges) {
  Projection p;
  int64_t r = 0;
  ASSERT_TRUE(p.Apply(SetCommit(++r, "app/a", 1, "1")).ok());           // 1
  for (int i = 0; i < 100; ++i) {                                       // 2..101
    ASSERT_TRUE(p.Apply(SetCommit(++r, "other/k", i + 1, "0")).ok());
  }
  ASSERT_TRUE(p.Apply(SetCommit(++r, "app/b", 1, "2")).ok());           // 102
  ASSERT_TRUE(p.Apply(SetCommit(++r, "other/k", 101, "0")).ok());       // 103
  const std::vector<Projection::KeySpan> app = {Projection::SpanOfPrefix("app/")};
  EXPECT_EQ(p.QuietUntil(app, 0, 100), 0);      // app/a changes at 1
  EXPECT_EQ(p.QuietUntil(app, 1, 100), 101);    // then app/b at 102
  EXPECT_EQ(p.QuietUntil(app, 102, 100), 103);  // nothing after: the head
  const std::vector<Projection::KeySpan> none = {Projection::SpanOfPrefix("zzz/")};
  EXPECT_EQ(p.QuietUntil(none, 0, 100), 103);
  // A single key, as the etcd watch names it: [key, key + "\0").
  EXPECT_EQ(p.QuietUntil({{"app/a", std::string("app/a") + '\0'}}, 1, 100), 103);
  // More keys than it may look at: it skips nothing.
  EXPECT_EQ(p.QuietUntil(app, 1, 1), 1);
  // A prefix's span ends before the next prefix.
  EXPECT_EQ(Projection::SpanOfPrefix("app/").end, "app0");
  EXPECT_EQ(Projection::SpanOfPrefix("").end, "");
}

TEST(ProjectionTest, KeysChangedBetweenTwoRevisionsAreTheKeysOfTheirEvents) {
  Projection p;
  ASSERT_TRUE(p.Apply(SetCommit(1, "b", 1, "1")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(2, "a", 1, "1")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(3, "b", 2, "2")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(4, "c", 1, "1")).ok());
  using Keys = std::vector<std::string_view>;
  EXPECT_EQ(*p.KeysChangedBetween(1, 3, 100), (Keys{"a", "b"}));
  EXPECT_EQ(*p.KeysChangedBetween(3, 1, 100), (Keys{"a", "b"}));  // either order
  EXPECT_EQ(*p.KeysChangedBetween(0, 4, 100), (Keys{"a", "b", "c"}));
  EXPECT_EQ(*p.KeysChangedBetween(4, 4, 100), Keys{});
  EXPECT_EQ(*p.KeysChangedBetween(3, 99, 100), Keys{"c"});  // past the head: to the head
  EXPECT_FALSE(p.KeysChangedBetween(0, 4, 3).has_value());  // 4 events > 3
}

TEST(ProjectionTest, RangeIsByBytesWithLimitAndCount) {
  Projection p;
  ASSERT_TRUE(p.Apply(SetCommit(1, "a/1", 1, "1")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(2, "a/2", 1, "2")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(3, "a/3", 1, "3")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(4, "b", 1, "4")).ok());
  ASSERT_TRUE(p.Apply(DeleteCommit(5, "a/2", 2, "2")).ok());
  int64_t count = 0;
  auto all = p.Range("a/", "a0", p.head(), SIZE_MAX, &count);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "a/1");
  EXPECT_EQ(all[1].key, "a/3");
  EXPECT_EQ(count, 2);
  auto first = p.Range("a/", "a0", p.head(), 1, &count);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(p.Range("a/", "", p.head(), SIZE_MAX, nullptr).size(), 3u);  // no upper bound
  EXPECT_EQ(p.Range("a/", "a0", 4, SIZE_MAX, nullptr).size(), 3u);  // before the delete
  EXPECT_TRUE(p.Range("a/", "a0", p.head(), 0, &count).empty());    // count only
  EXPECT_EQ(count, 2);
}

// The etcd API reads only values: the same versions as the entry reads,
// without an entry rendered, at the head, before it and for a delete.
TEST(ProjectionTest, AValueOnlyReadIsTheEntryReadWithoutTheEntry) {
  Projection p;
  ASSERT_TRUE(p.Apply(SetCommit(1, "a", 1, R"({"v":1})")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(2, "a", 2, R"("two")")).ok());
  ASSERT_TRUE(p.Apply(SetCommit(3, "b", 1, "3")).ok());
  ASSERT_TRUE(p.Apply(DeleteCommit(4, "b", 2, "3")).ok());
  auto same = [](const KeyVersion& entry, const KeyVersion& value_only) {
    EXPECT_NE(entry.entry, nullptr);
    EXPECT_EQ(value_only.entry, nullptr);
    EXPECT_EQ(value_only.key, entry.key);
    EXPECT_EQ(value_only.revision, entry.revision);
    EXPECT_EQ(value_only.version, entry.version);
    EXPECT_EQ(value_only.deleted, entry.deleted);
    EXPECT_EQ(value_only.created_revision, entry.created_revision);
    EXPECT_EQ(value_only.created_version, entry.created_version);
    EXPECT_EQ(value_only.value(), entry.value());
  };
  for (int64_t at : {1, 2, 3, 4}) {
    for (const char* key : {"a", "b"}) {
      auto entry = p.VersionAt(key, at);
      auto value_only = p.VersionAt(key, at, Text::kValueOnly);
      ASSERT_EQ(entry.has_value(), value_only.has_value()) << key << "@" << at;
      if (entry) same(*entry, *value_only);
    }
    int64_t n1 = 0, n2 = 0;
    auto entries = p.Range("", "", at, SIZE_MAX, &n1);
    auto values = p.Range("", "", at, SIZE_MAX, &n2, Text::kValueOnly);
    EXPECT_EQ(n1, n2);
    ASSERT_EQ(entries.size(), values.size());
    for (size_t i = 0; i < entries.size(); ++i) same(entries[i], values[i]);
  }
  EXPECT_EQ(p.Get("a", 1, Text::kValueOnly)->value(), R"({"v":1})");
  EXPECT_EQ(p.Get("a", std::nullopt, Text::kValueOnly)->value(), R"("two")");
  EXPECT_EQ(p.VersionAt("b", 4, Text::kValueOnly)->value(), "3");  // the value it removed
}

TEST(ProjectionTest, TheFirstCommitMustBeRevisionOne) {
  Projection p;
  EXPECT_EQ(p.Apply(SetCommit(2, "a", 1, "1")).code(), Code::kCorruption);
  EXPECT_EQ(p.head(), 0);
}

}  // namespace
}  // namespace chronoconf
