#include "common/result.h"

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

TEST(ResultTest, CarriesAValueOrAnError) {
  Result<int> v = 7;
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 7);
  Result<int> e = Status::NotFound("x");
  EXPECT_FALSE(e);
  EXPECT_EQ(e.status().code(), Code::kNotFound);
}

#ifdef NDEBUG
// A Result made from an OK status is a bug; in Release (no assert) it must
// still be an error, never an empty "success".
TEST(ResultTest, AnOkStatusBecomesInternalInRelease) {
  Result<int> r = Status::OK();
  EXPECT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kInternal);
}
#endif

}  // namespace
}  // namespace chronoconf
