#include "cli/suggest.h"

#include <gtest/gtest.h>

namespace chronoconf::cli {
namespace {

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("get", "set"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(SuggestTest, NamesTheWordAndTheClosestCommand) {
  const std::vector<std::string> commands = {"get", "set", "status", "serve", "history", "import"};
  EXPECT_EQ(UnknownCommandMessage("histroy", commands),
            "unknown command 'histroy'; did you mean 'history'?");
  EXPECT_EQ(UnknownCommandMessage("stat", commands),
            "unknown command 'stat'; did you mean 'status'?");
  EXPECT_EQ(UnknownCommandMessage("frobnicate", {}), "unknown command 'frobnicate'");
  EXPECT_NE(UnknownCommandMessage("frobnicate", commands).find("did you mean '"),
            std::string::npos);
}

}  // namespace
}  // namespace chronoconf::cli
