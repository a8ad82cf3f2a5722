// The rules a configuration key obeys (SPEC §1).
#ifndef CHRONOCONF_DOMAIN_KEY_H_
#define CHRONOCONF_DOMAIN_KEY_H_

#include <string_view>

#include "common/status.h"

namespace chronoconf {

inline constexpr size_t kMaxKeyBytes = 256;

// OK when `key` matches ^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$, is 1–256 bytes,
// holds no "//", no leading or trailing '/', and no "." or ".." segment.
// Otherwise kInvalidKey saying which rule it breaks.
Status ValidateKey(std::string_view key);

// OK when `prefix` could begin a key: empty, or the same characters as a key
// (a trailing '/' allowed). Otherwise kInvalidKey.
Status ValidatePrefix(std::string_view prefix);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_KEY_H_
