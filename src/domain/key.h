// The rules a configuration key obeys (SPEC §1).
#ifndef CHRONOCONF_DOMAIN_KEY_H_
#define CHRONOCONF_DOMAIN_KEY_H_

#include <string_view>

#include "common/status.h"

namespace chronoconf {

inline constexpr size_t kMaxKeyBytes = 1024;

// OK when `key` is valid UTF-8 of 1–1024 bytes without control characters
// (U+0000–U+001F, U+007F). '/' only groups keys into prefixes: a key may
// begin or end with it, repeat it, or hold "." and ".." (they are ordinary
// bytes; keys compare as bytes), as etcd and Consul keys do. The grammar
// before SPEC §1 widened it is a subset, so old stores stay valid.
// Otherwise kInvalidKey saying which rule it breaks.
Status ValidateKey(std::string_view key);

// OK when `prefix` could begin a key: empty, or text under the same rules as
// a key. Otherwise kInvalidKey.
Status ValidatePrefix(std::string_view prefix);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_KEY_H_
