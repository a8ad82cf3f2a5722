#include "cli/import_etcd_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace chronoconf::cli {
namespace {

TEST(ImportEtcdPlanTest, ShowBytesEscapesWhatATerminalWouldNotShow) {
  EXPECT_EQ(ShowBytes("app/é"), "app/é");
  EXPECT_EQ(ShowBytes(std::string("a\x01\x7f", 3)), "a\\x01\\x7f");
  EXPECT_EQ(ShowBytes(std::string("ab\xff", 3)), "ab\\xff");
}

TEST(ImportEtcdPlanTest, FindsEveryKeyAndValueChronoconfCannotHold) {
  std::vector<EtcdKeyValue> base = {{"ok", "1"}, {"bin", std::string("\xff", 1)}};
  std::vector<EtcdRevision> revisions = {
      {5, {{false, std::string("c\x01", 2), "v"}, {true, "gone", ""}}},
      {6, {{false, std::string(1025, 'k'), "v"}}}};
  auto problems = FindUnimportable(base, 4, revisions);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("key \"bin\" (etcd revision 4): its value is not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(problems[1].find("key \"c\\x01\" (etcd revision 5)"), std::string::npos);
  EXPECT_NE(problems[2].find("(etcd revision 6)"), std::string::npos);
  EXPECT_TRUE(FindUnimportable({{"a", "{\"x\":1}"}}, 1, {}).empty());
}

TEST(ImportEtcdPlanTest, KeepsTheLastChangeOfAKeyInARevision) {
  EtcdRevision r{7, {{true, "a", ""}, {false, "b", "1"}, {false, "a", "2"}}};
  KeepLastChangePerKey(&r);
  ASSERT_EQ(r.changes.size(), 2u);
  EXPECT_EQ(r.changes[0].key, "b");
  EXPECT_EQ(r.changes[1].key, "a");
  EXPECT_FALSE(r.changes[1].deleted);
}

TEST(ImportEtcdPlanTest, SplitsAtTheOpLimitAndTheBodyBudget) {
  std::vector<EtcdChange> many(kMaxOpsPerTxn * 2 + 1, EtcdChange{false, "k", "v"});
  auto parts = SplitChanges(many);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), kMaxOpsPerTxn);
  EXPECT_EQ(parts[2].size(), 1u);

  const std::string big(kMaxPartBytes / 2, 'x');
  auto big_changes = SplitChanges({{false, "a", big}, {false, "b", big}});
  EXPECT_EQ(big_changes.size(), 2u);
  auto keys = SplitKeys({{"a", big}, {"b", big}, {"c", "1"}});
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].size(), 2u);
  EXPECT_TRUE(SplitKeys({}).empty());
  EXPECT_EQ(PartReason("r", 1, 1), "r");
  EXPECT_EQ(PartReason("r", 2, 3), "r (part 2 of 3)");
}

TEST(ImportEtcdPlanTest, BodiesMapValuesAsTheEtcdApiDoes) {
  EXPECT_EQ(ImportBody({{"a", R"({"x":1})"}, {"b", "1.50"}}, "", "why"),
            R"({"values":{"a":{"x":1},"b":"1.50"},"mode":"merge","reason":"why"})");
  EXPECT_EQ(ImportBody({{"p/a", "v"}}, "p/", "r"),
            R"({"values":{"p/a":"v"},"mode":"merge","prefix":"p/","reason":"r"})");
  EXPECT_EQ(TxnBody({{false, "a", "1"}, {true, "b", ""}}),
            R"({"success":[{"requestPut":{"key":"YQ==","value":"MQ=="}},)"
            R"({"requestDeleteRange":{"key":"Yg=="}}]})");
}

TEST(ImportEtcdPlanTest, PrefixRangeEndIsClientv3s) {
  EXPECT_EQ(PrefixRangeEnd("app/"), "app0");
  EXPECT_EQ(PrefixRangeEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixRangeEnd(""), std::string(1, '\0'));
}

}  // namespace
}  // namespace chronoconf::cli
