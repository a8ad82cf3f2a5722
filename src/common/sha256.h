// SHA-256 (OpenSSL libcrypto) for the commit hash chain.
#ifndef CHRONOCONF_COMMON_SHA256_H_
#define CHRONOCONF_COMMON_SHA256_H_

#include <string>
#include <string_view>

namespace chronoconf {

// The 32-byte digest of `data`, as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// Lowercase hex of bytes, and back ("" on a malformed input).
std::string ToHex(std::string_view bytes);
std::string FromHex(std::string_view hex);

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_SHA256_H_
