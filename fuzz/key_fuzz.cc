// libFuzzer harness for the key rules (SPEC §1) and key scopes. Invariants:
// a key ValidateKey accepts obeys every rule of SPEC §1 (checked here
// independently) and is a valid prefix; KeyScope::Contains agrees with
// starts_with over its prefixes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/key.h"
#include "domain/key_scope.h"

namespace {

// SPEC §1, written out independently of src/domain: 1–1024 bytes of
// well-formed UTF-8 (RFC 3629: no overlong form, no surrogate, at most
// U+10FFFF) without a control character (U+0000–U+001F, U+007F).
bool ObeysSpec(std::string_view k) {
  if (k.empty() || k.size() > 1024) return false;
  size_t i = 0;
  while (i < k.size()) {
    const auto b = static_cast<unsigned char>(k[i]);
    if (b < 0x20 || b == 0x7f) return false;
    size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
      n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n > k.size()) return false;
    for (size_t j = 1; j < n; ++j) {
      const auto c = static_cast<unsigned char>(k[i + j]);
      if (c < (j == 1 ? lo : 0x80) || c > (j == 1 ? hi : 0xBF)) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t split = text.find('\n');
  std::string_view key = text.substr(0, split);
  bool valid = chronoconf::ValidateKey(key).ok();
  if (valid != ObeysSpec(key)) std::abort();
  if (valid && !chronoconf::ValidatePrefix(key).ok()) std::abort();
  if (split != std::string_view::npos) {
    std::string prefix(text.substr(split + 1));
    auto scope = chronoconf::KeyScope::Under({prefix});
    if (scope.Contains(key) != key.starts_with(prefix)) std::abort();
    for (const std::string& p : scope.Within("")) {
      if (p != prefix) std::abort();
    }
  }
  return 0;
}
