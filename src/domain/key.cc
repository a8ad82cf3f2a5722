#include "domain/key.h"

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf {
namespace {

// Where `text` breaks the rules every key byte follows, or "" when it
// keeps them: valid UTF-8, no control character (U+0000–U+001F, U+007F).
std::string_view BrokenTextRule(std::string_view text) {
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return "it holds a control character";
  }
  if (!json::IsValidUtf8(text)) return "it is not valid UTF-8";
  return {};
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Status::InvalidKey("invalid key: a key must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return Status::InvalidKey(
        fmt::format("invalid key: a key is at most {} bytes, not {}", kMaxKeyBytes, key.size()));
  }
  if (std::string_view why = BrokenTextRule(key); !why.empty()) {
    return Status::InvalidKey(fmt::format("invalid key: {}", why));
  }
  return Status::OK();
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.size() > kMaxKeyBytes) {
    return Status::InvalidKey(fmt::format("invalid prefix: a prefix is at most {} bytes, not {}",
                                          kMaxKeyBytes, prefix.size()));
  }
  if (std::string_view why = BrokenTextRule(prefix); !why.empty()) {
    return Status::InvalidKey(fmt::format("invalid prefix: {}", why));
  }
  return Status::OK();
}

}  // namespace chronoconf
