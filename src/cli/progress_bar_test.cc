#include "cli/progress_bar.h"

#include <gtest/gtest.h>

namespace chronoconf::cli {
namespace {

TEST(ProgressBarTest, FillsInProportionAndRedrawsInPlace) {
  EXPECT_EQ(ProgressBar(0, 10), "\r[                              ] 0/10 commits");
  EXPECT_EQ(ProgressBar(5, 10), "\r[===============               ] 5/10 commits");
  EXPECT_EQ(ProgressBar(10, 10), "\r[==============================] 10/10 commits");
  // More done than the total read at the start (commits landed meanwhile).
  EXPECT_EQ(ProgressBar(12, 10).substr(0, 33), "\r[==============================]");
  EXPECT_EQ(ProgressBar(0, 0, "keys"), "\r[==============================] 0/0 keys");
}

}  // namespace
}  // namespace chronoconf::cli
