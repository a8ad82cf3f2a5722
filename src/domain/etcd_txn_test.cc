// etcd's applyCompare rules (etcd 3.4 etcdserver/apply.go).
#include "domain/etcd_txn.h"

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

}  // namespace
}  // namespace chronoconf
