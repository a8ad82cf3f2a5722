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

bool ObeysSpec(std::string_view k) {
  if (k.empty() || k.size() > 256 || k.front() == '/' || k.back() == '/') return false;
  if (k.find("//") != std::string_view::npos) return false;
  auto ok = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-' || c == '/';
  };
  for (char c : k) if (!ok(c)) return false;
  if (k.front() == '.' || k.front() == '-') return false;
  size_t start = 0;
  while (start <= k.size()) {
    size_t end = k.find('/', start);
    std::string_view seg = k.substr(start, end == std::string_view::npos ? end : end - start);
    if (seg == "." || seg == "..") return false;
    if (end == std::string_view::npos) break;
    start = end + 1;
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
