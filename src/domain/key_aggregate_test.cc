// Given/when/then tests of the aggregate: events in, command, events out.
#include "domain/key_aggregate.h"

#include <gtest/gtest.h>

#include "domain/key.h"

namespace chronoconf {
namespace {

KeyState Given(const std::vector<Event>& events) {
  KeyState s;
  for (const Event& e : events) KeyAggregate::Apply(s, e);
  return s;
}

Event Set(const std::string& key, int64_t v, std::string value,
          std::optional<std::string> prev = std::nullopt) {
  return {EventType::kConfigSet, key, v, std::move(value), std::move(prev)};
}

TEST(KeyAggregateTest, SetOnNewKeyCreatesVersionOne) {
  auto r = KeyAggregate::Decide(Given({}), SetKey{"a", "1", std::nullopt, false});
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, Set("a", 1, "1"));
}

TEST(KeyAggregateTest, SetCarriesPreviousValue) {
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1")}), SetKey{"a", "2", std::nullopt, false});
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ(**r, Set("a", 2, "2", "1"));
}

TEST(KeyAggregateTest, SameValueIsANoOp) {
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1.50")}), SetKey{"a", "1.50", std::nullopt, false});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST(KeyAggregateTest, NumberTextIsComparedAsText) {
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1.5")}), SetKey{"a", "1.50", std::nullopt, false});
  ASSERT_TRUE(r && r->has_value());
}

TEST(KeyAggregateTest, StaleExpectedVersionConflictsEvenWhenUnchanged) {
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1"), Set("a", 2, "2", "1")}),
                                SetKey{"a", "2", 1, false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  ASSERT_TRUE(r.status().conflict());
  EXPECT_EQ(r.status().conflict()->expected_version, 1);
  EXPECT_EQ(r.status().conflict()->current_version, 2);
}

TEST(KeyAggregateTest, MustBeAbsentConflictsWhenKeyExists) {
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1")}), SetKey{"a", "2", std::nullopt, true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kConflict);
}

TEST(KeyAggregateTest, MustBeAbsentAllowsADeletedKey) {
  Event del{EventType::kConfigDeleted, "a", 2, std::nullopt, "1"};
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1"), del}), SetKey{"a", "3", std::nullopt, true});
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->version, 3);
  EXPECT_EQ((*r)->previous_value, std::nullopt);
}

TEST(KeyAggregateTest, DeleteOfMissingKeyIsNotFound) {
  auto r = KeyAggregate::Decide(Given({}), DeleteKey{"a", std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

// etcd's Put (SPEC §7): the same value still commits, with a new version.
TEST(KeyAggregateTest, CommitUnchangedWritesTheSameValueAgain) {
  SetKey put{"a", "1", std::nullopt, false};
  put.commit_unchanged = true;
  auto r = KeyAggregate::Decide(Given({Set("a", 1, "1")}), put);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ(**r, Set("a", 2, "1", "1"));
}

// etcd's DeleteRange of one key: a missing key deletes nothing.
TEST(KeyAggregateTest, DeleteIfExistsOfMissingKeyIsANoOp) {
  DeleteKey del{"a", std::nullopt};
  del.if_exists = true;
  auto r = KeyAggregate::Decide(Given({}), del);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  r = KeyAggregate::Decide(Given({Set("a", 1, "1")}), del);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->type, EventType::kConfigDeleted);
}

TEST(KeyAggregateTest, VersionsNeverReset) {
  KeyState s = Given({Set("a", 1, "1"), Set("a", 2, "2", "1")});
  auto del = KeyAggregate::Decide(s, DeleteKey{"a", 2});
  ASSERT_TRUE(del && del->has_value());
  EXPECT_EQ((*del)->version, 3);
  EXPECT_EQ((*del)->previous_value, "2");
  KeyAggregate::Apply(s, **del);
  auto set = KeyAggregate::Decide(s, SetKey{"a", "4", std::nullopt, false});
  ASSERT_TRUE(set && set->has_value());
  EXPECT_EQ((*set)->version, 4);
}

TEST(KeyAggregateTest, CheckPassesOrConflicts) {
  KeyState s = Given({Set("a", 1, "1")});
  EXPECT_TRUE(KeyAggregate::Decide(s, CheckKey{"a", 1}));
  EXPECT_EQ(KeyAggregate::Decide(s, CheckKey{"a", 0}).status().code(), Code::kConflict);
}

TEST(DecideTransactionTest, FailingOpNamesItsIndexAndNothingIsDecided) {
  Transaction txn;
  txn.ops = {SetKey{"a", "1", std::nullopt, false}, DeleteKey{"b", std::nullopt}};
  auto r = DecideTransaction(txn, [](const std::string&) { return KeyState{}; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().op_index(), 1);
}

TEST(DecideTransactionTest, KeyNamedTwiceIsInvalid) {
  Transaction txn;
  txn.ops = {SetKey{"a", "1", std::nullopt, false}, SetKey{"a", "2", std::nullopt, false}};
  auto r = DecideTransaction(txn, [](const std::string&) { return KeyState{}; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kInvalidRequest);
}

TEST(DecideTransactionTest, EventsInOpOrderWithChangedFlags) {
  Transaction txn;
  txn.ops = {SetKey{"a", "1", std::nullopt, false}, SetKey{"b", "2", std::nullopt, false}};
  auto r = DecideTransaction(txn, [](const std::string& k) {
    return k == "a" ? KeyState{1, true, "1"} : KeyState{};
  });
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].key, "b");
  EXPECT_EQ(r->changed, (std::vector<bool>{false, true}));
}

TEST(KeyTest, ValidKeys) {
  for (const char* k : {"a", "payments/timeout_ms", "_x", "A.b-c/d_e", "9", "a/b.c/..d", "/a",
                        "a/", "a//b", ".", "a/../b", "a b", "caf\xc3\xa9", "/registry/pods/a b",
                        "\xf0\x9f\x99\x82", "a\x7e"}) {
    EXPECT_TRUE(ValidateKey(k).ok()) << k;
  }
  EXPECT_TRUE(ValidateKey(std::string(1024, 'a')).ok());
}

TEST(KeyTest, InvalidKeys) {
  for (const char* k : {"", "a\tb", "a\nb", "\x01", "a\x1f", "a\x7f", "a\xff", "caf\xc3",
                        "\xc0\xaf", "\xed\xa0\x80"}) {
    EXPECT_EQ(ValidateKey(k).code(), Code::kInvalidKey) << k;
  }
  EXPECT_EQ(ValidateKey(std::string("a\0b", 3)).code(), Code::kInvalidKey);
  EXPECT_EQ(ValidateKey(std::string(1025, 'a')).code(), Code::kInvalidKey);
}

}  // namespace
}  // namespace chronoconf
