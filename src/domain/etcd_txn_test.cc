// etcd's applyCompare rules and its Txn's decision (etcd 3.4
// etcdserver/apply.go: compareToPath, checkRequests, applyTxn).
#include "domain/etcd_txn.h"

#include <map>

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

EtcdCompare Version(EtcdCompare::Result result, int64_t n) {
  EtcdCompare c;
  c.target = EtcdCompare::Target::kVersion;
  c.result = result;
  c.start = "k";
  c.number = n;
  return c;
}

TEST(EtcdCompareTest, NumbersCompareTheKeyAgainstTheCompare) {
  EtcdKeyView kv{3, 10, 12, "v", 0};
  EXPECT_TRUE(CompareHolds(Version(EtcdCompare::Result::kEqual, 3), {kv}));
  EXPECT_TRUE(CompareHolds(Version(EtcdCompare::Result::kGreater, 2), {kv}));
  EXPECT_FALSE(CompareHolds(Version(EtcdCompare::Result::kLess, 3), {kv}));
  EXPECT_TRUE(CompareHolds(Version(EtcdCompare::Result::kNotEqual, 4), {kv}));
}

TEST(EtcdCompareTest, AMissingKeyComparesZerosButNeverAValue) {
  EXPECT_TRUE(CompareHolds(Version(EtcdCompare::Result::kEqual, 0), {}));
  EtcdCompare value;
  value.target = EtcdCompare::Target::kValue;
  value.result = EtcdCompare::Result::kNotEqual;
  value.value = "x";
  EXPECT_FALSE(CompareHolds(value, {}));
}

TEST(EtcdCompareTest, ARangeHoldsOnlyWhenEveryKeyDoes) {
  EtcdKeyView a{1, 5, 5, "a", 0}, b{2, 6, 7, "b", 0};
  EXPECT_TRUE(CompareHolds(Version(EtcdCompare::Result::kGreater, 0), {a, b}));
  EXPECT_FALSE(CompareHolds(Version(EtcdCompare::Result::kEqual, 1), {a, b}));
}

TEST(EtcdCompareTest, AnUnknownTargetComparesAsEqualAndAnUnknownResultHolds) {
  EtcdKeyView kv{3, 10, 12, "v", 0};
  EtcdCompare c = Version(EtcdCompare::Result::kEqual, 99);
  c.target = EtcdCompare::Target::kUnknown;
  EXPECT_TRUE(CompareHolds(c, {kv}));
  EXPECT_TRUE(CompareHolds(c, {}));
  c.result = EtcdCompare::Result::kNotEqual;
  EXPECT_FALSE(CompareHolds(c, {kv}));
  EtcdCompare any = Version(EtcdCompare::Result::kUnknown, 99);
  EXPECT_TRUE(CompareHolds(any, {kv}));
}

// A read model of a few keys: etcd's version is the stored value's length.
class EtcdTxnDecisionTest : public ::testing::Test {
 protected:
  void Set(const std::string& key, const std::string& value) {
    // Member by member: GCC 12 at -O3 takes a nested braced temporary's
    // strings for uninitialized (-Wmaybe-uninitialized).
    EtcdKeyRead& read = keys_[key];
    read.key = key;
    read.view.version = static_cast<int64_t>(value.size());
    read.view.create_revision = 1;
    read.view.mod_revision = 2;
    read.view.value = value;
    read.stored_value = "stored:" + value;
  }

  EtcdTxnDecision Decide(const EtcdTxnBody& txn) {
    return DecideEtcdTxn(txn, [this](const std::string& start, const std::string& end,
                                     bool single) {
      std::vector<EtcdKeyRead> out;
      for (const auto& [key, read] : keys_) {
        const bool in = single ? key == start : key >= start && (end.empty() || key < end);
        if (in) out.push_back(read);
      }
      return out;
    }, kHead);
  }

  static constexpr int64_t kHead = 10;

  static EtcdCompare ValueIs(const std::string& key, const std::string& value) {
    EtcdCompare c;
    c.target = EtcdCompare::Target::kValue;
    c.start = key;
    c.value = value;
    return c;
  }

  static EtcdTxnBody::Write Nested(EtcdTxnBody body) {
    return NestedEtcdTxn{std::make_shared<const EtcdTxnBody>(std::move(body))};
  }

  using Writes = std::vector<std::pair<std::string, std::optional<std::string>>>;

  std::map<std::string, EtcdKeyRead> keys_;
};

TEST_F(EtcdTxnDecisionTest, ANestedTxnsComparesReadTheStateBeforeTheTxn) {
  Set("a", "1");
  EtcdTxnBody inner;
  inner.compares.push_back(ValueIs("a", "2"));  // the outer put does not count
  inner.success.push_back(EtcdPut{"b", "yes"});
  inner.failure.push_back(EtcdPut{"b", "no"});
  EtcdTxnBody outer;
  outer.success.push_back(EtcdPut{"a", "2"});
  outer.success.push_back(Nested(std::move(inner)));
  outer.success.push_back(EtcdPut{"c", "after"});
  EtcdTxnDecision d = Decide(outer);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.path, (std::vector<bool>{true, false}));
  EXPECT_EQ(d.writes, (Writes{{"a", "2"}, {"b", "no"}, {"c", "after"}}));
  EXPECT_EQ(d.compared, (std::vector<std::string>{"a"}));
}

TEST_F(EtcdTxnDecisionTest, ThePathListsTheNestedTxnsOfTheTakenBranchesDepthFirst) {
  Set("a", "1");
  EtcdTxnBody deepest;
  deepest.compares.push_back(ValueIs("a", "1"));
  deepest.success.push_back(EtcdPut{"d", "deep"});
  EtcdTxnBody middle;
  middle.compares.push_back(ValueIs("a", "9"));
  middle.failure.push_back(Nested(std::move(deepest)));
  EtcdTxnBody skipped;  // in the branch not taken: neither decided nor run
  skipped.success.push_back(EtcdPut{"never", "x"});
  EtcdTxnBody last;
  last.success.push_back(EtcdPut{"e", "last"});
  EtcdTxnBody outer;
  outer.compares.push_back(ValueIs("a", "1"));
  outer.success.push_back(Nested(std::move(middle)));
  outer.success.push_back(Nested(std::move(last)));
  outer.failure.push_back(Nested(std::move(skipped)));
  EtcdTxnDecision d = Decide(outer);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.path, (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(d.writes, (Writes{{"d", "deep"}, {"e", "last"}}));
}

TEST_F(EtcdTxnDecisionTest, ARangeDeletesTheKeysItHoldsEachOnce) {
  Set("a", "1");
  Set("b", "2");
  Set("c", "3");
  EtcdTxnBody inner;
  inner.success.push_back(RangeDelete{"a", "c"});
  EtcdTxnBody outer;
  outer.success.push_back(RangeDelete{"b", ""});
  outer.success.push_back(Nested(std::move(inner)));
  EtcdTxnDecision d = Decide(outer);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.writes,
            (Writes{{"b", std::nullopt}, {"c", std::nullopt}, {"a", std::nullopt}}));
}

// etcd's deleteRange reads the Txn's own puts: a range after a put deletes
// the key put (a second write of it, which the commit then refuses), as well
// as the keys it held.
TEST_F(EtcdTxnDecisionTest, ARangeAfterAPutDeletesTheKeyPutToo) {
  Set("a", "1");
  EtcdTxnBody txn;
  txn.success.push_back(EtcdPut{"b", "new"});
  txn.success.push_back(EtcdPut{"z", "outside"});
  txn.success.push_back(RangeDelete{"a", "c"});
  txn.success.push_back(RangeDelete{"a", ""});  // a and b are gone already
  EtcdTxnDecision d = Decide(txn);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.writes, (Writes{{"b", "new"},
                              {"z", "outside"},
                              {"a", std::nullopt},
                              {"b", std::nullopt},
                              {"z", std::nullopt}}));
}

TEST_F(EtcdTxnDecisionTest, APutWithIgnoreValueWritesTheValueTheKeyHas) {
  Set("a", "kept");
  EtcdTxnBody txn;
  txn.success.push_back(EtcdPut{"a", "", /*keep_value=*/true, /*must_exist=*/true});
  txn.success.push_back(EtcdPut{"b", "new", /*keep_value=*/false, /*must_exist=*/false});
  EtcdTxnDecision d = Decide(txn);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.writes, (Writes{{"a", "stored:kept"}, {"b", "new"}}));
}

TEST_F(EtcdTxnDecisionTest, APutThatMustFindItsKeyFailsTheTxnOnlyOnTheTakenPath) {
  Set("a", "1");
  EtcdTxnBody inner;
  inner.success.push_back(EtcdPut{"missing", "", /*keep_value=*/false, /*must_exist=*/true});
  EtcdTxnBody txn;
  txn.success.push_back(EtcdPut{"a", "2"});
  txn.success.push_back(Nested(std::move(inner)));
  EtcdTxnDecision d = Decide(txn);
  EXPECT_EQ(d.status.code(), Code::kInvalidRequest);
  EXPECT_EQ(d.status.message(), "key not found");
  EXPECT_TRUE(d.writes.empty());

  EtcdTxnBody other;
  other.compares.push_back(ValueIs("a", "1"));
  other.failure.push_back(EtcdPut{"missing", "", /*keep_value=*/true, /*must_exist=*/true});
  EXPECT_TRUE(Decide(other).status.ok());
}

TEST_F(EtcdTxnDecisionTest, ARangeAboveTheHeadFailsTheTxnOnlyOnTheTakenPath) {
  Set("a", "1");
  EtcdTxnBody inner;
  inner.compares.push_back(ValueIs("a", "1"));
  inner.success.push_back(EtcdRangeAt{kHead});
  inner.failure.push_back(EtcdRangeAt{kHead + 1});  // not taken
  EtcdTxnBody txn;
  txn.success.push_back(EtcdPut{"b", "x"});
  txn.success.push_back(Nested(inner));
  EtcdTxnDecision taken_ok = Decide(txn);
  ASSERT_TRUE(taken_ok.status.ok());
  EXPECT_EQ(taken_ok.writes, (Writes{{"b", "x"}}));

  inner.success.push_back(EtcdRangeAt{kHead + 1});
  EtcdTxnBody future;
  future.success.push_back(EtcdPut{"b", "x"});
  future.success.push_back(Nested(inner));
  EtcdTxnDecision d = Decide(future);
  EXPECT_EQ(d.status.code(), Code::kFutureRevision);
  EXPECT_TRUE(d.writes.empty());

  // etcd checks the puts first: a missing key is the answer, even after.
  future.success.push_back(EtcdPut{"missing", "", /*keep_value=*/true, /*must_exist=*/true});
  EXPECT_EQ(Decide(future).status.code(), Code::kInvalidRequest);
}

// A Range below the etcd view's floor (marked by the etcd layer) fails the
// Txn as etcd's checkRange does: only when its branch is taken.
TEST_F(EtcdTxnDecisionTest, ARangeBelowTheFloorFailsTheTxnOnlyOnTheTakenPath) {
  Set("a", "1");
  EtcdTxnBody txn;
  txn.compares.push_back(ValueIs("a", "1"));
  txn.success.push_back(EtcdPut{"b", "x"});
  txn.failure.push_back(EtcdRangeAt{1, /*compacted=*/true});  // not taken
  EXPECT_TRUE(Decide(txn).status.ok());
  txn.success.push_back(EtcdRangeAt{1, /*compacted=*/true});
  EtcdTxnDecision d = Decide(txn);
  EXPECT_EQ(d.status.code(), Code::kCompacted);
  EXPECT_TRUE(d.writes.empty());
}

}  // namespace
}  // namespace chronoconf
