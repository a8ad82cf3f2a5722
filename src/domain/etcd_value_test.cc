// SPEC §7 "Values": every etcd value reads back byte for byte.
#include "domain/etcd_value.h"

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

TEST(EtcdValueTest, MinifiedObjectsAndArraysAreStoredAsJson) {
  EXPECT_EQ(StoredValueFromEtcd(R"({"a":[1,2.50]})"), R"({"a":[1,2.50]})");
  EXPECT_EQ(StoredValueFromEtcd("[]"), "[]");
}

TEST(EtcdValueTest, EverythingElseIsAJsonString) {
  EXPECT_EQ(StoredValueFromEtcd("1.50"), "\"1.50\"");
  EXPECT_EQ(StoredValueFromEtcd("true"), "\"true\"");
  EXPECT_EQ(StoredValueFromEtcd(R"({ "a": 1 })"), R"("{ \"a\": 1 }")");
  EXPECT_EQ(StoredValueFromEtcd("[1,"), "\"[1,\"");
  EXPECT_EQ(StoredValueFromEtcd(""), "\"\"");
  EXPECT_FALSE(StoredValueFromEtcd("\xff").has_value());
}

TEST(EtcdValueTest, RoundTripsEveryText) {
  for (std::string text : {std::string("plain"), std::string("say \"hi\"\\n"),
                           std::string("tab\tnul\0end", 11), std::string("caf\xc3\xa9"),
                           std::string(R"({"a":1})"), std::string("1.50"), std::string()}) {
    auto stored = StoredValueFromEtcd(text);
    ASSERT_TRUE(stored) << text;
    EXPECT_EQ(EtcdValueFromStored(*stored), text);
  }
  EXPECT_EQ(EtcdValueFromStored("1.50"), "1.50");  // a native number reads as its text
}

}  // namespace
}  // namespace chronoconf
