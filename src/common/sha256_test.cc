#include "common/sha256.h"

#include <gtest/gtest.h>

namespace chronoconf {
namespace {

std::string Hmac(std::string_view key, std::string_view data) {
  HmacSha256Stream mac(key);
  mac.Update(data.substr(0, data.size() / 2));
  mac.Update(data.substr(data.size() / 2));
  return ToHex(mac.Finish());
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than a block).
TEST(HmacSha256Test, MatchesRfc4231) {
  EXPECT_EQ(Hmac(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Hmac("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Hmac(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, RandomBytesAreFreshEachTime) {
  const std::string a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace chronoconf
